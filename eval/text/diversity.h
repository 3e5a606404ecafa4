// Corpus-level diversity and feature metrics of generated explanations, with PETER's
// definitions (utils.py of PETER/PEPLER), computed on token lists:
//   USR   unique generated token sequences / N (and USN, the unique count);
//   distinct-n  distinct n-grams / all n-grams over the whole generated corpus (Li et al. 2016);
//   feature detection: the set of tokens of a text that belong to the feature vocabulary;
//   FMR   share of samples whose detected set holds its ground-truth feature (with several
//         ground-truth features per sample: any of them; one feature is PETER's case);
//   FCR   distinct detected features over the corpus / size of the feature vocabulary;
//   DIV   mean over unordered pairs of samples of |features_i ∩ features_j| (lower = more diverse).
// Invariant: results equal the Python definitions exactly (integer counts, one final division).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "eval/text/bleu.h"

namespace seller::eval {

struct UniqueSentences {
  double ratio = 0;          // USR
  int64_t unique_count = 0;  // USN
};

UniqueSentences unique_sentence_ratio(const TokenizedCorpus& texts);

// Distinct n-grams / total n-grams; 0 when the corpus has no n-gram of that order.
double distinct_n(const TokenizedCorpus& texts, int n);

using FeatureVocabulary = std::unordered_set<std::string>;
// Detected features of one text, sorted and unique.
using FeatureSet = std::vector<std::string>;

std::vector<FeatureSet> detect_features(const TokenizedCorpus& texts,
                                        const FeatureVocabulary& vocabulary);

// ground_truth[i] lists sample i's features (usually one). Throws DataError on a size mismatch.
double feature_matching_ratio(const std::vector<FeatureSet>& detected,
                              const std::vector<std::vector<std::string>>& ground_truth);

double feature_coverage_ratio(const std::vector<FeatureSet>& detected,
                              const FeatureVocabulary& vocabulary);

// O(total detected features): sum over pairs of |A ∩ B| = sum over features of C(count, 2).
double feature_diversity(const std::vector<FeatureSet>& detected);

}  // namespace seller::eval
