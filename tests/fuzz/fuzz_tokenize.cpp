// libFuzzer target: arbitrary bytes (invalid UTF-8 included) through a Qwen-style pipeline
// (NFC, Split with the Qwen2 pattern, ByteLevel, byte-level BPE with a tiny built-in vocabulary,
// added tokens) and through every split pattern on its own. Properties checked, besides no
// crash: the split matches cover the repaired input in order without gaps; byte-level decoding
// gives back the repaired input with NFC applied between the non-normalized special tokens (the
// pipeline is lossless up to its normalizer). As in HF tokenizers, a `normalized: false` added
// token is split off before normalization, so NFC never composes across it: "<|im_start|>"
// followed by U+0338 keeps its '>' instead of becoming U+226F.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "trainer/text/byte_level.h"
#include "trainer/text/nfc.h"
#include "trainer/text/split_patterns.h"
#include "trainer/text/tokenizer.h"
#include "trainer/text/unicode.h"

namespace {

std::string json_escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::unique_ptr<seller::text::Tokenizer> make_tokenizer() {
  using seller::text::bytes_to_chars;
  std::string vocab;
  int id = 0;
  for (int b = 0; b < 256; ++b) {
    vocab += (b ? "," : "") + std::string("\"") +
             json_escape(bytes_to_chars(std::string(1, static_cast<char>(b)))) + "\":" +
             std::to_string(id++);
  }
  const std::vector<std::pair<std::string, std::string>> merges = {
      {" ", "t"}, {"h", "e"}, {" t", "he"}, {"i", "n"}, {" ", " "}, {"\r", "\n"}, {"e", "r"}};
  std::string merge_list;
  for (const auto& [a, b] : merges) {
    const std::string ca = bytes_to_chars(a), cb = bytes_to_chars(b);
    vocab += ",\"" + json_escape(ca + cb) + "\":" + std::to_string(id++);
    merge_list += (merge_list.empty() ? "" : ",") + std::string("[\"") + json_escape(ca) +
                  "\",\"" + json_escape(cb) + "\"]";
  }
  const std::string regex(seller::text::split_pattern_regex(seller::text::SplitPattern::kQwen2));
  const std::string json =
      R"({"added_tokens": [{"id": 1000, "content": "<|im_start|>", "special": true, "normalized": false},
                           {"id": 1001, "content": "<think>", "special": false, "normalized": true}],
          "normalizer": {"type": "NFC"},
          "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
             {"type": "Split", "pattern": {"Regex": ")" + json_escape(regex) + R"("}, "behavior": "Isolated", "invert": false},
             {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}]},
          "decoder": {"type": "ByteLevel"},
          "model": {"type": "BPE", "vocab": {)" + vocab + R"(}, "merges": [)" + merge_list + "]}}";
  return seller::text::Tokenizer::from_json_string(json, "fuzz_tokenize built-in");
}

// NFC of each stretch between occurrences of the one non-normalized added token.
std::string expected_round_trip(const std::string& text) {
  static const std::string kSpecial = "<|im_start|>";
  std::string out;
  size_t at = 0;
  for (size_t hit; (hit = text.find(kSpecial, at)) != std::string::npos; at = hit + kSpecial.size()) {
    out += seller::text::nfc_normalize(text.substr(at, hit - at)) + kSpecial;
  }
  return out + seller::text::nfc_normalize(text.substr(at));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::unique_ptr<seller::text::Tokenizer> tok = make_tokenizer();
  const std::string raw(reinterpret_cast<const char*>(data), size);
  const std::string text = seller::text::to_valid_utf8(raw);

  for (auto p : {seller::text::SplitPattern::kGpt2, seller::text::SplitPattern::kLlama3,
                 seller::text::SplitPattern::kQwen2}) {
    std::vector<std::pair<uint32_t, uint32_t>> m;
    seller::text::find_split_matches(p, text, m);
    uint32_t at = 0;
    for (const auto& [b, e] : m) {
      if (b != at || e <= b) __builtin_trap();
      at = e;
    }
    if (at != text.size()) __builtin_trap();
  }

  const std::vector<int32_t> ids = tok->encode(raw, true);
  const std::string back = tok->decode(ids, false);
  if (back != expected_round_trip(text)) __builtin_trap();
  (void)tok->decode(ids, true);
  return 0;
}
