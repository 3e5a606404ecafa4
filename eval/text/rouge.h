// ROUGE-1/2/L precision, recall and F in two named variants that the field mixes up:
//   RougeVariant::kPeter       the tf_seq2seq copy in PETER/PEPLER (rouge.py): n-gram *sets*
//                              (a repeated n-gram counts once), F1 = 2PR/(P+R+1e-8), and a
//                              sentence-level ROUGE-L whose F uses beta = P/R (+1e-12 terms).
//                              Input is token lists (tokenize_peter); like the original, which
//                              splits ' '.join(tokens) on ' ', an empty text is one empty word.
//   RougeVariant::kRougeScore  Google rouge-score 0.1.2 RougeScorer(['rouge1','rouge2','rougeL'],
//                              use_stemmer=False): n-gram multisets (clipped counts),
//                              F = 2PR/(P+R), ROUGE-L by LCS, zero scores for an empty side.
// Corpus scores are the unweighted mean of the per-pair scores (PETER: np.mean; rouge-score has
// no corpus mode, the mean is what people report). All values are fractions in [0, 1].
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "eval/text/bleu.h"

namespace seller::eval {

enum class RougeVariant { kPeter, kRougeScore };

std::string_view rouge_variant_name(RougeVariant variant);  // "peter" / "rouge_score"

struct PrfScore {
  double precision = 0;
  double recall = 0;
  double f = 0;
};

struct RougeScores {
  PrfScore rouge1;
  PrfScore rouge2;
  PrfScore rougeL;
};

// Per-pair scores from token lists (tokenised with the variant's own tokenizer).
RougeScores rouge_pair_tokens(const std::vector<std::string>& hyp,
                              const std::vector<std::string>& ref, RougeVariant variant);

// Corpus mean over aligned pairs of token lists. Throws DataError on a size mismatch or an
// empty corpus.
RougeScores rouge_corpus_tokens(const TokenizedCorpus& hyps, const TokenizedCorpus& refs,
                                RougeVariant variant);

// Corpus mean from raw text: tokenize_peter for kPeter, tokenize_rouge_score for kRougeScore.
RougeScores rouge_corpus(const std::vector<std::string>& hyps, const std::vector<std::string>& refs,
                         RougeVariant variant);

// Per-pair scores from raw text, same tokenisation as rouge_corpus.
RougeScores rouge_pair(std::string_view hyp, std::string_view ref, RougeVariant variant);

}  // namespace seller::eval
