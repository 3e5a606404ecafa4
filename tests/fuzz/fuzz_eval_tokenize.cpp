// libFuzzer target: the metric tokenizers and per-pair ROUGE/BLEU on arbitrary bytes (valid or
// invalid UTF-8). Invariants checked: no crash or sanitizer report; no token is empty or holds a
// Python space; rouge-score tokens are [a-z0-9]+; the 13a string is its tokens joined by one
// space (13a is not idempotent: "x,.5" -> "x , .5" -> "x , . 5", so that is not checked).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "eval/text/bleu.h"
#include "eval/text/rouge.h"
#include "eval/text/tokenize.h"
#include "eval/text/utf8.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void check_tokens(const std::vector<std::string>& tokens) {
  for (const auto& t : tokens) {
    check(!t.empty());
    for (size_t pos = 0; pos < t.size();) {
      size_t len;
      check(!seller::eval::is_python_space(seller::eval::decode_utf8(t, pos, len)));
      pos += len;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace seller::eval;
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const size_t cut = size ? data[0] % (size + 1) : 0;
  const std::string_view a = all.substr(0, cut), b = all.substr(cut);

  const auto t13 = tokenize_13a(a);
  check_tokens(t13);
  const auto peter = tokenize_peter(a);
  check_tokens(peter);
  const auto rouge = tokenize_rouge_score(a);
  for (const auto& t : rouge) {
    check(!t.empty());
    for (char c : t) check((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
  }
  std::string joined;
  for (const auto& t : t13) joined += (joined.empty() ? "" : " ") + t;
  check(normalize_13a(a) == joined);

  const RougeScores rs = rouge_pair(a, b, RougeVariant::kRougeScore);
  check(rs.rougeL.f >= 0 && rs.rougeL.f <= 1);
  const RougeScores rp = rouge_pair(a, b, RougeVariant::kPeter);
  check(rp.rouge1.precision >= 0 && rp.rouge1.precision <= 1);
  const BleuResult bl = sacrebleu_bleu({std::string(a)}, {std::string(b)});
  check(bl.bleu >= 0 && bl.bleu <= 100 + 1e-9);
  return 0;
}
