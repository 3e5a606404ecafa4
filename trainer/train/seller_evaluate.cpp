// Teacher-forced evaluation of the SELLER model (evaluate_seller in seller_trainer.h): the
// explanation token CE and the next-item full ranking of each example's candidate, in eval mode
// without gradients; the model's training mode is restored afterwards.
#include <torch/torch.h>

#include <numeric>

#include "trainer/train/seller_trainer.h"

namespace seller::train {

SellerEvalFigures evaluate_seller(model::SellerModel& model,
                                  const std::vector<data::ExplainExample>& examples,
                                  const std::vector<TokenizedExample>& tokens, int64_t pad_id,
                                  HistoryControl control, uint64_t seed, torch::Device device,
                                  int64_t batch_size) {
  SellerEvalFigures out;
  if (examples.empty()) return out;
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  eval::RankingAccumulator acc;
  double loss_sum = 0;
  int64_t token_count = 0;
  model::SellerLossWeights w;
  w.item = 0;  // ranking is computed below from the scores; only the explanation CE is needed
  w.rating = 0;
  std::vector<size_t> rows;
  for (size_t start = 0; start < examples.size(); start += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(examples.size(), start + static_cast<size_t>(batch_size));
    rows.resize(end - start);
    std::iota(rows.begin(), rows.end(), start);
    const auto batch = make_batch(examples, tokens, rows, pad_id, control, seed).to(device);
    const auto l = model->losses(batch, w);
    loss_sum += l.explanation.item<double>() * static_cast<double>(l.explanation_tokens);
    token_count += l.explanation_tokens;
    const auto scores = model->sasrec->next_item_scores(batch.history)
                            .to(torch::kCPU, torch::kFloat32)
                            .contiguous();
    const float* p = scores.data_ptr<float>();
    const auto n = static_cast<size_t>(scores.size(1));
    for (size_t i = start; i < end; ++i)
      acc.add(std::span<const float>(p + (i - start) * n, n), examples[i].item);
  }
  if (was_training) model->train();
  out.explanation_loss = token_count > 0 ? loss_sum / static_cast<double>(token_count) : 0.0;
  out.ranking = acc.summary();
  return out;
}

}  // namespace seller::train
