// Implementation of the recommendation lift (see lift.h). The reranking math works on doubles
// from the float SASRec scores, so z-scoring never merges two distinct scores and w = 0 gives
// exactly SASRec's order inside the top-k (tests/model/test_lift.cpp checks the figures equal the
// full-ranking ones).
#include "trainer/train/lift.h"

#include <torch/torch.h>

#include <cmath>
#include <numeric>

#include "eval/utility/embedding_score.h"
#include "trainer/core/error.h"
#include "trainer/train/seller_batch.h"
#include "trainer/train/seller_explain.h"

namespace seller::train {
namespace {

// Mean of the embedder rows of the user's reviews written before the target interaction.
std::vector<std::string> profile_reviews(const data::Dataset& ds, const data::ExplainExample& e,
                                         data::SplitTag tag) {
  const auto items = ds.history(e.user);
  std::vector<std::string> out;
  for (size_t k = 0; k < items.size(); ++k) {
    if (items[k] == e.item && ds.split(e.user, k) == tag && !ds.review(e.user, k).empty()) break;
    const std::string_view r = ds.review(e.user, k);
    if (!r.empty()) out.emplace_back(r);
  }
  return out;
}

// The mean of a matrix's rows (zeros for no row): the user's profile vector.
std::vector<float> mean_row(const eval::FloatMatrix& m, size_t dim) {
  std::vector<float> mean(dim, 0.0f);
  if (m.rows == 0) return mean;
  SELLER_CHECK(m.cols == dim);
  std::vector<double> acc(dim, 0.0);
  for (size_t r = 0; r < m.rows; ++r)
    for (size_t c = 0; c < dim; ++c) acc[c] += m.row(r)[c];
  for (size_t c = 0; c < dim; ++c) mean[c] = static_cast<float>(acc[c] / double(m.rows));
  return mean;
}

// Cosines of rows [first, first + k) of `texts` with `profile`.
void features(const eval::FloatMatrix& texts, size_t first, size_t k,
              const std::vector<float>& profile, std::vector<double>& out) {
  out.resize(k);
  for (size_t j = 0; j < k; ++j) out[j] = eval::cosine(texts.row(first + j), profile);
}

// Users per embedding call: bounds memory (tfidf rows are dense) while batching the encoder.
constexpr size_t kUsersPerChunk = 64;

}  // namespace

std::vector<double> zscore(std::span<const double> x) {
  std::vector<double> z(x.size(), 0.0);
  if (x.empty()) return z;
  double mean = 0;
  for (double v : x) mean += v;
  mean /= static_cast<double>(x.size());
  double var = 0;
  for (double v : x) var += (v - mean) * (v - mean);
  const double sd = std::sqrt(var / static_cast<double>(x.size()));
  if (!(sd > 0)) return z;
  for (size_t i = 0; i < x.size(); ++i) z[i] = (x[i] - mean) / sd;
  return z;
}

uint64_t rerank_rank(const LiftQuery& q, double w) {
  SELLER_CHECK(q.base.size() == q.candidates.size() && q.feature.size() == q.candidates.size());
  size_t t = q.candidates.size();
  for (size_t j = 0; j < q.candidates.size(); ++j)
    if (q.candidates[j] == q.target) t = j;
  if (t == q.candidates.size()) return 0;
  const std::vector<double> zb = zscore(q.base), zf = zscore(q.feature);
  const auto score = [&](size_t j) { return w == 0 ? zb[j] : zb[j] + w * zf[j]; };
  const double st = score(t);
  uint64_t rank = 1;
  for (size_t j = 0; j < q.candidates.size(); ++j)
    if (j != t && score(j) >= st) ++rank;
  return rank;
}

std::vector<std::vector<double>> lift_values(const std::vector<LiftQuery>& queries, double w) {
  std::vector<std::vector<double>> v(queries.size());
  for (size_t i = 0; i < queries.size(); ++i) {
    const uint64_t r = rerank_rank(queries[i], w);
    v[i] = {r == 0 ? 0.0 : eval::ndcg_at_k(r, 10), r == 0 ? 0.0 : eval::hit_at_k(r, 10)};
  }
  return v;
}

double mean_ndcg10(const std::vector<LiftQuery>& queries, double w) {
  if (queries.empty()) return 0;
  double s = 0;
  for (const auto& row : lift_values(queries, w)) s += row[0];
  return s / static_cast<double>(queries.size());
}

double choose_weight(const std::vector<LiftQuery>& valid, const std::vector<double>& grid,
                     std::vector<std::pair<double, double>>* curve) {
  SELLER_THROW_IF_NOT(!grid.empty(), ConfigError, "lift: the weight grid is empty");
  double best_w = grid[0], best = -1;
  for (double w : grid) {
    const double v = mean_ndcg10(valid, w);
    if (curve) curve->emplace_back(w, v);
    if (v > best) best = v, best_w = w;
  }
  return best_w;
}

double LiftSplit::topk_recall() const {
  if (real.empty()) return 0;
  size_t hits = 0;
  for (const auto& q : real)
    for (uint32_t c : q.candidates) hits += c == q.target;
  return static_cast<double>(hits) / static_cast<double>(real.size());
}

LiftSplit build_lift_split(SellerRun& run, const core::Config& cfg, const data::Dataset& ds,
                           const std::vector<data::ExplainExample>& examples, data::SplitTag tag,
                           const eval::TextEmbedder& embedder, const LiftOptions& options,
                           torch::Device device, std::ostream* log) {
  const size_t n = examples.size();
  const auto k = static_cast<size_t>(options.k);
  SELLER_THROW_IF_NOT(n >= 2, DataError, cfg.train.data, ": the lift needs at least 2 pairs, got ",
                      n);
  SELLER_THROW_IF_NOT(k >= 10 && k <= ds.num_items(), ConfigError, "--lift-k must be in [10, ",
                      ds.num_items(), "] (NDCG@10 needs 10 candidates), got ", options.k);
  LiftSplit out;
  out.real.resize(n);
  // 1. SASRec top-k from the real history (the scores evaluate_seller ranks with).
  {
    torch::NoGradGuard no_grad;
    run.model->eval();
    std::vector<size_t> rows;
    for (size_t start = 0; start < n; start += static_cast<size_t>(options.batch_size)) {
      const size_t end = std::min(n, start + static_cast<size_t>(options.batch_size));
      rows.resize(end - start);
      std::iota(rows.begin(), rows.end(), start);
      torch::Tensor history, next;
      history_tensors(examples, rows, HistoryControl::kReal, 0, history, next);
      const auto scores = run.model->sasrec->next_item_scores(history.to(device))
                              .to(torch::kCPU, torch::kFloat32)
                              .contiguous();
      const auto top = std::get<1>(scores.topk(options.k, 1, true, true)).contiguous();
      const float* p = scores.data_ptr<float>();
      const int64_t* ti = top.data_ptr<int64_t>();
      const auto items = static_cast<size_t>(scores.size(1));
      for (size_t i = start; i < end; ++i) {
        const std::span<const float> row(p + (i - start) * items, items);
        out.full.add(row, examples[i].item);
        LiftQuery& q = out.real[i];
        q.target = examples[i].item;
        for (size_t j = 0; j < k; ++j) {
          const auto item = static_cast<uint32_t>(ti[(i - start) * k + j]);
          q.candidates.push_back(item);
          q.base.push_back(row[item]);
        }
      }
    }
  }
  // 2. An explanation per candidate: the pair's history, the candidate as the item.
  std::vector<data::ExplainExample> cands;
  cands.reserve(n * k);
  for (size_t i = 0; i < n; ++i) {
    out.example_ids.push_back(examples[i].id);
    for (uint32_t item : out.real[i].candidates) {
      data::ExplainExample c;
      c.user = examples[i].user;
      c.item = item;
      c.history = examples[i].history;
      c.rating = std::nanf("");
      c.id = examples[i].id + "#" + std::string(ds.item_id(item));
      cands.push_back(std::move(c));
    }
  }
  const auto tokens = tokenize_examples(cands, ds, *run.tokenizer, cfg.seller);
  ExplainOptions eo;
  eo.batch_size = cfg.generate.batch_size;
  eo.history_seed = static_cast<uint64_t>(cfg.train.seed);
  if (log)
    *log << "lift: explaining " << cands.size() << " candidates (" << n << " pairs x " << k
         << ")\n";
  const std::vector<std::string> texts =
      explain(run.model, *run.tokenizer, cands, tokens, cfg.generate, eo);
  out.explanations.resize(n);
  for (size_t i = 0; i < n; ++i)
    out.explanations[i].assign(texts.begin() + static_cast<std::ptrdiff_t>(i * k),
                               texts.begin() + static_cast<std::ptrdiff_t>((i + 1) * k));
  // 3. Features: explanation vs the user's profile, for the real and the shuffled assignment
  // (user i gets the explanations of user perm[i], i.e. explanations of user j go to inv[j]).
  const std::vector<size_t> perm = eval::seeded_derangement(n, options.seed);
  std::vector<size_t> inv(n);
  for (size_t i = 0; i < n; ++i) inv[perm[i]] = i;
  std::vector<std::vector<float>> profiles(n);
  size_t dim = 0;
  out.shuffled = out.real;
  for (size_t lo = 0; lo < n; lo += kUsersPerChunk) {
    const size_t hi = std::min(n, lo + kUsersPerChunk);
    const std::vector<std::string> chunk(texts.begin() + static_cast<std::ptrdiff_t>(lo * k),
                                         texts.begin() + static_cast<std::ptrdiff_t>(hi * k));
    const eval::FloatMatrix rows = embedder.embed(chunk);
    dim = rows.cols;
    for (size_t i = lo; i < hi; ++i)
      if (profiles[i].empty())
        profiles[i] = mean_row(embedder.embed(profile_reviews(ds, examples[i], tag)), dim);
    for (size_t j = lo; j < hi; ++j) {
      features(rows, (j - lo) * k, k, profiles[j], out.real[j].feature);
      // profiles[inv[j]] may not be computed yet: compute on demand (same function, same row).
      if (profiles[inv[j]].empty())
        profiles[inv[j]] =
            mean_row(embedder.embed(profile_reviews(ds, examples[inv[j]], tag)), dim);
      features(rows, (j - lo) * k, k, profiles[inv[j]], out.shuffled[inv[j]].feature);
    }
  }
  return out;
}

LiftResult run_lift(
    SellerRun& run, const core::Config& cfg, const data::Dataset& ds,
    const std::function<eval::TextEmbedder(const std::vector<std::string>&)>& make_embedder,
    const LiftOptions& options, torch::Device device, std::ostream* log) {
  auto splits = data::build_explain_examples(ds, static_cast<size_t>(cfg.sasrec.max_len), 1,
                                             static_cast<uint64_t>(cfg.train.seed));
  for (auto* s : {&splits.valid, &splits.test})
    if (options.limit > 0 && s->size() > static_cast<size_t>(options.limit))
      s->resize(static_cast<size_t>(options.limit));
  std::vector<std::string> train_reviews;
  for (uint32_t u = 0; u < ds.num_users(); ++u)
    for (size_t k = 0; k < ds.history_length(u); ++k)
      if (ds.split(u, k) == data::SplitTag::kTrain && !ds.review(u, k).empty())
        train_reviews.emplace_back(ds.review(u, k));
  const eval::TextEmbedder embedder = make_embedder(train_reviews);
  LiftResult r;
  r.embedder = embedder.name;
  r.k = options.k;
  r.valid = build_lift_split(run, cfg, ds, splits.valid, data::SplitTag::kValid, embedder, options,
                             device, log);
  r.test = build_lift_split(run, cfg, ds, splits.test, data::SplitTag::kTest, embedder, options,
                            device, log);
  // 4. w on valid only, the same procedure for the real and the shuffled feature.
  r.weight = choose_weight(r.valid.real, options.grid, &r.curve);
  r.weight_shuffled = choose_weight(r.valid.shuffled, options.grid, &r.curve_shuffled);
  // 5. Test figures per pair.
  eval::UtilityBlock& b = r.block;
  b.name = "lift";
  char w[96];
  std::snprintf(w, sizeof w, "w = %.3g (shuffled: %.3g) chosen on %zu valid pairs", r.weight,
                r.weight_shuffled, r.valid.real.size());
  b.method = "SASRec top-" + std::to_string(options.k) + " reranked by z(score) + w z(cosine(" +
             r.embedder + ") of the candidate's explanation with the user's past reviews); " + w +
             "; test top-k recall " + std::to_string(r.test.topk_recall());
  b.encoder = r.embedder;
  b.metrics = {{"ndcg10", "NDCG@10", true, false, 4}, {"hr10", "HR@10", true, false, 4}};
  b.conditions = {"explanation", "shuffled", "no_text"};
  b.values = {lift_values(r.test.real, r.weight), lift_values(r.test.shuffled, r.weight_shuffled),
              lift_values(r.test.real, 0.0)};
  b.tests = {{2, 0}, {1, 0}};  // the explanation beats no text, and beats the shuffled one
  return r;
}

}  // namespace seller::train
