// Explanation generation (seller_explain.h).
#include "trainer/train/seller_explain.h"

#include <torch/torch.h>

#include <numeric>

#include "trainer/generate/generator.h"

namespace seller::train {

std::vector<std::string> explain(model::SellerModel& model, const text::Tokenizer& tokenizer,
                                 const std::vector<data::ExplainExample>& examples,
                                 const std::vector<TokenizedExample>& tokens,
                                 const core::GenerateConfig& g, const ExplainOptions& options) {
  torch::NoGradGuard no_grad;
  model->eval();
  const auto device = model->llm->embed_tokens->weight.device();
  generate::SamplingOptions s;
  s.max_new_tokens = g.max_new_tokens;
  s.min_new_tokens = g.min_new_tokens;
  s.greedy = g.greedy;
  s.temperature = g.temperature;
  s.top_k = g.top_k;
  s.top_p = g.top_p;
  s.repetition_penalty = g.repetition_penalty;
  s.seed = static_cast<uint64_t>(g.seed);
  s.eos_ids = {eos_id_of(tokenizer)};
  s.validate();
  std::vector<std::string> out(examples.size());
  std::vector<size_t> rows;
  for (size_t start = 0; start < examples.size();
       start += static_cast<size_t>(options.batch_size)) {
    const size_t end = std::min(examples.size(), start + static_cast<size_t>(options.batch_size));
    rows.resize(end - start);
    std::iota(rows.begin(), rows.end(), start);
    torch::Tensor history, next_targets;
    history_tensors(examples, rows, options.history, options.history_seed, history, next_targets);
    std::vector<int64_t> candidates;
    for (size_t r : rows) candidates.push_back(examples[r].item);
    const auto enc = model->encode(history.to(device), torch::tensor(candidates).to(device));
    std::vector<generate::GenerationRequest> requests(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      requests[i].prompt_ids = tokens[rows[i]].prompt;
      requests[i].soft_prompt = enc.prompts[static_cast<int64_t>(i)];
      requests[i].stream = static_cast<int64_t>(rows[i]);
    }
    const auto results = generate::generate(model->llm, requests, s);
    for (size_t i = 0; i < rows.size(); ++i) {
      std::vector<int32_t> ids;
      for (int64_t t : results[i].tokens)
        if (t != s.eos_ids.front()) ids.push_back(static_cast<int32_t>(t));
      out[rows[i]] = tokenizer.decode(ids, true);
    }
  }
  return out;
}

}  // namespace seller::train
