// The LibTorch parts of `seller eval` (compiled only when LibTorch is found; this header is
// torch-free so that cmd_eval.cpp can include it under SELLER_HAVE_TORCH):
//   - --encoder DIR: the project's text encoder (trainer/model/text_encoder/embedder.h) as the
//     identification embedder and as the token embedder of the embedding score;
//   - --lift RUN_DIR: the recommendation lift of a trained SELLER run (trainer/train/lift.h),
//     written as DIR/metrics.json + DIR/report.md (the "lift" utility block, the valid curve of
//     the weight search, top-k recall and the plain full-ranking figures of the same pairs).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "eval/utility/embedding_score.h"
#include "eval/utility/text_embedding.h"

namespace seller::launch {

struct EncoderEmbedders {
  std::string name;  // e.g. "all-MiniLM-L6-v2"
  // The sentence embedder (the fit corpus is ignored: the encoder is pretrained).
  std::function<eval::TextEmbedder(const std::vector<std::string>&)> make_embedder;
  eval::TokenTextEmbedder tokens;
};

// Loads a sentence-transformers folder; DataError naming the file on a bad folder. with_tokens:
// also the token embedder (a second copy of the weights; the lift needs only sentences).
EncoderEmbedders load_encoder_embedders(const std::string& dir, bool with_tokens = true);

struct LiftArgs {
  std::string run_dir, out, encoder;
  int64_t k = 20;
  int64_t limit = 0;
  int64_t bootstrap = 1000;
  uint64_t seed = 0;
};

// `seller eval --lift RUN_DIR --out DIR [--encoder DIR] [--lift-k K] [--limit N]`.
int run_eval_lift(const LiftArgs& args);

}  // namespace seller::launch
