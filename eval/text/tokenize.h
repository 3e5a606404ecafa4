// The three tokenisations the field's text metrics use, reproduced byte for byte:
//   tokenize_peter        PEPLER's `postprocessing` (punctuation and clitics split off, no
//                         lowercasing) followed by Python's str.split(); PETER's data is already
//                         tokenised this way, so the same function serves both.
//   tokenize_13a          sacreBLEU's default "13a" tokenizer (mteval-v13a), including the
//                         str.rstrip() sacreBLEU applies to every segment first.
//   tokenize_rouge_score  Google rouge-score's DefaultTokenizer without stemming: Python
//                         str.lower(), every run of characters outside [a-z0-9] is a separator.
// Invariants: the output equals the Python implementation's for every valid UTF-8 input
// (checked against the packages in tests/unit/eval/test_text_oracles.cpp); invalid UTF-8 bytes
// are kept as opaque non-space bytes (13a, PETER) or treated as separators (rouge-score).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace seller::eval {

enum class Tokenizer {
  kPeter,       // tokenize_peter
  kSacre13a,    // tokenize_13a
  kRougeScore,  // tokenize_rouge_score
  kWhitespace,  // Python str.split(): for text that is already tokenised
};

// Name used in reports and JSON: "peter", "13a", "rouge_score", "whitespace".
std::string_view tokenizer_name(Tokenizer tokenizer);

std::vector<std::string> tokenize_peter(std::string_view text);

// The normalised segment as sacreBLEU's Tokenizer13a returns it (tokens joined by one space).
std::string normalize_13a(std::string_view text);
std::vector<std::string> tokenize_13a(std::string_view text);

std::vector<std::string> tokenize_rouge_score(std::string_view text);

std::vector<std::string> tokenize(std::string_view text, Tokenizer tokenizer);

// Tokenizes every text of a corpus.
std::vector<std::vector<std::string>> tokenize_corpus(const std::vector<std::string>& texts,
                                                      Tokenizer tokenizer);

}  // namespace seller::eval
