// Multi-task training of the SELLER model on a prepared dataset (task = seller).
//
// Loss = explanation_loss_weight * explanation token CE + item_loss_weight * next-item CE
//      + rating_loss_weight * rating MSE + moe_loss_weight * (MoE aux + z), weights in `seller:`.
// Loop: AdamW (decoupled weight decay on matrices only, not on norms, biases or 1-d vectors),
// linear warmup + cosine (train.warmup_steps), gradient clipping (train.clip), gradient
// accumulation (train.grad_accum micro-batches of train.batch_size, each weighted by its share of
// the step's rows, so a partial last step of an epoch has full weight), bf16 autocast on GPU
// (train.autocast), seeds from `seed` (init) and train.seed (order, dropout). Every
// train.eval_every epochs: teacher-forced explanation loss and next-item ranking on the valid
// pairs; the weights with the best valid explanation loss are kept (train.patience validations
// without improvement stop the run). At the end: test loss and ranking with the real, shuffled
// and no history (the controls), then the run folder is saved (seller_run.h).
// Every log_every steps a progress line (losses, lr, tokens/s, examples/s, ETA) and a JSON line
// in metrics.jsonl with the same figures and the experts' load.
// Checkpoints (checkpointer.h, docs/checkpoints.md): every checkpoint.every_steps optimizer steps
// (in the background) and at the end, into <run_dir>/checkpoints/; the same command resumes from
// the newest good one bit-exactly on CPU (weights, AdamW, best weights, RNG, data cursor, log
// window). SIGTERM/SIGUSR1 finish the step, save and return with stopped_by_signal set.
#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "eval/ranking/ranking_metrics.h"
#include "trainer/core/config.h"
#include "trainer/data/dataset.h"
#include "trainer/data/explain_examples.h"
#include "trainer/train/seller_batch.h"
#include "trainer/train/seller_run.h"

namespace seller::train {

struct SellerEvalFigures {
  double explanation_loss = 0;   // mean token CE over the explanation tokens (teacher forcing)
  eval::RankingSummary ranking;  // next-item full ranking of the candidate
};

struct SellerTrainResult {
  SellerEvalFigures best_valid;
  SellerEvalFigures test_real, test_shuffled, test_none;
  int64_t steps = 0, epochs_run = 0, best_epoch = 0;
  double first_loss = 0, last_loss = 0;  // mean total loss of the first and last log windows
  double seconds = 0;
  std::string device;
  uint64_t train_examples = 0;
  int stopped_by_signal = 0;  // SIGTERM/SIGUSR1 made the run save and stop early (no test figures)
  bool main_rank = true;      // false on data-parallel ranks other than 0 (no test figures either)
};

// Loss and ranking of `examples` under a history control, in eval mode without gradients.
SellerEvalFigures evaluate_seller(model::SellerModel& model,
                                  const std::vector<data::ExplainExample>& examples,
                                  const std::vector<TokenizedExample>& tokens, int64_t pad_id,
                                  HistoryControl control, uint64_t seed, torch::Device device,
                                  int64_t batch_size);

// config_yaml: the resolved config, saved as the run's config.yaml.
SellerTrainResult train_seller(const core::Config& cfg, const std::string& config_yaml,
                               const data::Dataset& ds, const std::filesystem::path& run_dir,
                               std::ostream* progress);

}  // namespace seller::train
