// Tokenisation and batching of SELLER examples (seller_batch.h).
#include "trainer/train/seller_batch.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "trainer/core/error.h"
#include "trainer/data/synthetic/prng.h"

namespace seller::train {
namespace {

void replace_all(std::string& s, const std::string& from, std::string_view to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
}

std::vector<uint32_t> controlled_history(const data::ExplainExample& e, HistoryControl c,
                                         uint64_t seed, size_t index) {
  if (c == HistoryControl::kNone) return {};
  std::vector<uint32_t> h = e.history;
  if (c == HistoryControl::kShuffled && h.size() > 1) {
    data::synthetic::Rng rng(seed * 0x9E3779B97F4A7C15ULL + index);
    for (size_t i = h.size() - 1; i > 0; --i) std::swap(h[i], h[rng.below(i + 1)]);
  }
  return h;
}

}  // namespace

HistoryControl parse_history_control(const std::string& name) {
  if (name == "real") return HistoryControl::kReal;
  if (name == "shuffled") return HistoryControl::kShuffled;
  if (name == "none") return HistoryControl::kNone;
  throw ConfigError("history control must be real, shuffled or none, got '" + name + "'");
}

const char* history_control_name(HistoryControl c) {
  switch (c) {
    case HistoryControl::kReal:
      return "real";
    case HistoryControl::kShuffled:
      return "shuffled";
    case HistoryControl::kNone:
      return "none";
  }
  return "?";
}

std::string render_prompt(const std::string& tmpl, const data::Dataset& ds,
                          const data::ExplainExample& e) {
  std::string s = tmpl;
  replace_all(s, "{title}", ds.item_title(e.item));
  replace_all(s, "{category}", ds.item_category(e.item));
  replace_all(s, "{user}", ds.user_id(e.user));
  return s;
}

int64_t pad_id_of(const text::Tokenizer& tokenizer) {
  if (tokenizer.pad_id()) return *tokenizer.pad_id();
  if (tokenizer.eos_id()) return *tokenizer.eos_id();
  return 0;
}

int64_t eos_id_of(const text::Tokenizer& tokenizer) {
  SELLER_THROW_IF_NOT(tokenizer.eos_id().has_value(), DataError, "the tokenizer (",
                      tokenizer.describe(),
                      ") has no EOS token; explanations need one to end (set eos_token in "
                      "tokenizer_config.json)");
  return *tokenizer.eos_id();
}

std::vector<TokenizedExample> tokenize_examples(const std::vector<data::ExplainExample>& examples,
                                                const data::Dataset& ds,
                                                const text::Tokenizer& tokenizer,
                                                const core::SellerConfig& cfg) {
  const int64_t eos = eos_id_of(tokenizer);
  std::vector<TokenizedExample> out(examples.size());
  for (size_t i = 0; i < examples.size(); ++i) {
    const auto& e = examples[i];
    auto p = tokenizer.encode(render_prompt(cfg.prompt_template, ds, e), true);
    if (static_cast<int64_t>(p.size()) > cfg.max_prompt_tokens)
      p.resize(static_cast<size_t>(cfg.max_prompt_tokens));
    out[i].prompt.assign(p.begin(), p.end());
    auto x = tokenizer.encode(e.explanation, false);
    if (static_cast<int64_t>(x.size()) > cfg.max_explanation_tokens)
      x.resize(static_cast<size_t>(cfg.max_explanation_tokens));
    out[i].explanation.assign(x.begin(), x.end());
    out[i].explanation.push_back(eos);
  }
  return out;
}

void history_tensors(const std::vector<data::ExplainExample>& examples,
                     std::span<const size_t> rows, HistoryControl control, uint64_t seed,
                     torch::Tensor& history, torch::Tensor& next_targets, bool pinned) {
  std::vector<std::vector<uint32_t>> hs;
  hs.reserve(rows.size());
  size_t t = 1;
  for (size_t r : rows) {
    hs.push_back(controlled_history(examples[r], control, seed, r));
    t = std::max(t, hs.back().size());
  }
  const auto b = static_cast<int64_t>(rows.size());
  const auto i64 = torch::TensorOptions().dtype(torch::kInt64).pinned_memory(pinned);
  history = torch::zeros({b, static_cast<int64_t>(t)}, i64);
  next_targets = torch::zeros({b, static_cast<int64_t>(t)}, i64);
  auto H = history.accessor<int64_t, 2>();
  auto N = next_targets.accessor<int64_t, 2>();
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& h = hs[i];
    const size_t off = t - h.size();
    for (size_t j = 0; j < h.size(); ++j) {
      H[static_cast<int64_t>(i)][static_cast<int64_t>(off + j)] = h[j] + 1;
      // Column j predicts item j + 1; the last column predicts the candidate itself.
      const uint32_t next = j + 1 < h.size() ? h[j + 1] : examples[rows[i]].item;
      N[static_cast<int64_t>(i)][static_cast<int64_t>(off + j)] = next + 1;
    }
  }
}

model::SellerBatch make_batch(const std::vector<data::ExplainExample>& examples,
                              const std::vector<TokenizedExample>& tokens,
                              std::span<const size_t> rows, int64_t pad_id, HistoryControl control,
                              uint64_t seed, bool pinned) {
  model::SellerBatch b;
  history_tensors(examples, rows, control, seed, b.history, b.next_targets, pinned);
  const auto n = static_cast<int64_t>(rows.size());
  size_t l = 1, labelled = 0, rated = 0;
  for (size_t r : rows) {
    l = std::max(l, tokens[r].prompt.size() + tokens[r].explanation.size());
    labelled += tokens[r].explanation.size();
    rated += std::isnan(examples[r].rating) ? 0 : 1;
  }
  const auto L = static_cast<int64_t>(l);
  const auto i64 = torch::TensorOptions().dtype(torch::kInt64).pinned_memory(pinned);
  b.input_ids = torch::full({n, L}, pad_id, i64);
  b.text_mask = torch::zeros({n, L}, i64);
  b.labels = torch::full({n, L}, int64_t{-100}, i64);
  b.candidates = torch::empty({n}, i64);
  b.ratings = torch::empty({n}, i64.dtype(torch::kFloat32));
  b.label_index = torch::empty({static_cast<int64_t>(labelled)}, i64);
  b.rated_rows = torch::empty({static_cast<int64_t>(rated)}, i64);
  auto ids = b.input_ids.accessor<int64_t, 2>();
  auto mask = b.text_mask.accessor<int64_t, 2>();
  auto lab = b.labels.accessor<int64_t, 2>();
  auto cand = b.candidates.accessor<int64_t, 1>();
  auto rat = b.ratings.accessor<float, 1>();
  auto label_at = b.label_index.data_ptr<int64_t>();
  auto rated_at = b.rated_rows.data_ptr<int64_t>();
  int64_t text_tokens = 0;
  for (int64_t i = 0; i < n; ++i) {
    const size_t r = rows[static_cast<size_t>(i)];
    const auto& t = tokens[r];
    int64_t at = 0;
    for (int64_t id : t.prompt) {
      ids[i][at] = id;
      mask[i][at++] = 1;
    }
    for (int64_t id : t.explanation) {
      ids[i][at] = id;
      lab[i][at] = id;
      *label_at++ = i * L + at;
      mask[i][at++] = 1;
    }
    text_tokens += at;
    cand[i] = examples[r].item;
    rat[i] = examples[r].rating;
    if (!std::isnan(rat[i])) *rated_at++ = i;
  }
  b.text_tokens = text_tokens;
  // Host tensors: nonzero() costs no device synchronisation here.
  b.item_target_index = b.next_targets.reshape({-1}).gt(0).nonzero().squeeze(1);
  if (pinned) b.item_target_index = b.item_target_index.pin_memory();
  return b;
}

}  // namespace seller::train
