// libFuzzer target: arbitrary bytes as a tokenizer.json. seller::Error (DataError for a bad or
// unsupported file) is the expected outcome for bad input; when the bytes load, a fixed string
// (with added-token look-alikes, CJK, emoji, combining marks, \r\n) is encoded and decoded, and
// every id the encoder returns must map back to a token. Any other exception, crash, sanitizer
// report or leak is a finding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "trainer/core/error.h"
#include "trainer/text/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string json(reinterpret_cast<const char*>(data), size);
  std::unique_ptr<seller::text::Tokenizer> tok;
  try {
    tok = seller::text::Tokenizer::from_json_string(json, "fuzz/tokenizer.json");
  } catch (const seller::Error&) {
    return 0;
  }
  static const std::string kTexts[] = {
      "Hello world! <|im_start|>user\nCafe\xCC\x81 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80 "
      "12345 don't\r\n\r\n  x",
      "", " ", "<s>", "\xE2\x96\x81\xE2\x96\x81" "a", "\xFF\xFE invalid"};
  for (const std::string& text : kTexts) {
    for (bool special : {false, true}) {
      const std::vector<int32_t> ids = tok->encode(text, special);
      for (int32_t id : ids)
        if (!tok->id_to_token(id)) __builtin_trap();  // encode produced an unknown id
      (void)tok->decode(ids, false);
      (void)tok->decode(ids, true);
    }
  }
  const std::vector<int32_t> odd = {-1, 0, 1, 2, 3, 255, 256, 1 << 20, 2147483647};
  (void)tok->decode(odd, false);
  (void)tok->token_to_id("a");
  (void)tok->vocab_size();
  return 0;
}
