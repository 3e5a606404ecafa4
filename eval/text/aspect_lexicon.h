// Aspect lexicon mined from training reviews, for FMR/FCR/DIV when records carry no "feature".
// PETER's features come from Sentires (a phrase-level sentiment analyser) which is not available,
// so seller mines single-word aspects with a documented heuristic (docs/eval.md, "Aspect lexicon"):
//   candidates  PETER tokens (tokenize_peter) made only of lowercase ASCII letters, >= 3 letters,
//               not in a general English stop list (function words, generic review verbs and
//               nouns such as "product"), not an opinion word, not ending in "ly" (adverbs) or,
//               when longer than four letters, "ed" (past participles);
//   frequency   df(w) = number of reviews containing w;
//   specificity lift(w) = P(opinion word within +-window tokens | w) / P(same | any candidate):
//               aspects are what opinions are about ("the battery is great"), so they sit next to
//               opinion words more often than the average content word;
//   score       df(w) * ln(lift(w)), kept when df >= min_document_frequency and lift > min_lift;
//               the top max_words by score (ties by word) form the lexicon.
// Invariants: deterministic (no hashing order leaks into the result); single-word features only,
// because FMR detection compares token by token (a multi-word feature never matches); words are
// lowercase and matched exactly against PETER tokens, as PETER's lowercased data is.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "eval/text/diversity.h"

namespace seller::eval {

struct AspectLexiconOptions {
  size_t max_words = 100;
  int64_t min_document_frequency = 5;
  int window = 3;         // tokens either side that count as "near" an opinion word
  double min_lift = 1.0;  // keep only words nearer to opinions than the average candidate
};

struct AspectWord {
  std::string word;
  int64_t document_frequency = 0;
  int64_t count = 0;         // occurrences
  int64_t near_opinion = 0;  // occurrences with an opinion word within the window
  double lift = 0;
  double score = 0;
};

struct AspectLexicon {
  std::vector<AspectWord> words;  // best first
  int64_t reviews = 0;            // reviews mined
  FeatureVocabulary vocabulary() const;
};

// Throws DataError when `reviews` is empty or options are impossible (window < 1, max_words 0).
AspectLexicon mine_aspect_lexicon(const std::vector<std::string>& reviews,
                                  const AspectLexiconOptions& options = {});

// Per text: the lexicon words among its PETER tokens, sorted and unique (may be empty).
std::vector<std::vector<std::string>> lexicon_features(const std::vector<std::string>& texts,
                                                       const AspectLexicon& lexicon);

// True for the built-in opinion and stop words (exposed for tests and docs).
bool is_opinion_word(const std::string& word);
bool is_aspect_stop_word(const std::string& word);

}  // namespace seller::eval
