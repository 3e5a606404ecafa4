// SASRec training loop and evaluation; the sequence rules and controls are in sasrec_trainer.h.
#include "trainer/train/sasrec_trainer.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <numbers>
#include <random>

#include "trainer/core/error.h"
#include "trainer/data/sampler.h"
#include "trainer/train/lr_schedule.h"
#include "trainer/train/metrics_log.h"

namespace seller::train {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::vector<uint32_t> last_n(std::span<const uint32_t> items, size_t n) {
  const size_t from = items.size() > n ? items.size() - n : 0;
  return {items.begin() + static_cast<std::ptrdiff_t>(from), items.end()};
}

}  // namespace

torch::Device resolve_device(const std::string& name) {
  if (name == "auto") return torch::cuda::is_available() ? torch::Device("cuda:0") : torch::kCPU;
  torch::Device d(name);
  SELLER_THROW_IF_NOT(!d.is_cuda() || torch::cuda::is_available(), ConfigError, "train.device = '",
                      name, "' but no CUDA device is available");
  return d;
}

SasrecData build_sasrec_data(const data::Dataset& ds, int64_t max_len) {
  SasrecData out;
  out.num_items = ds.num_items();
  out.popularity.assign(ds.num_items(), 0.0f);
  const size_t window = static_cast<size_t>(max_len);
  for (uint32_t u = 0; u < ds.num_users(); ++u) {
    const auto hist = ds.history(u);
    const auto tags = ds.split_tags(u);
    std::vector<uint32_t> train;
    bool have_valid = false, have_test = false;
    for (size_t k = 0; k < hist.size(); ++k) {
      const auto tag = data::SplitTag(tags[k]);
      if (tag == data::SplitTag::kTrain) {
        train.push_back(hist[k]);
        out.popularity[hist[k]] += 1.0f;
      }
      const bool first_valid = tag == data::SplitTag::kValid && !have_valid;
      const bool first_test = tag == data::SplitTag::kTest && !have_test;
      if ((first_valid || first_test) && k > 0) {
        EvalQuery q{u, last_n(hist.subspan(0, k), window), hist[k]};
        (first_valid ? out.valid : out.test).push_back(std::move(q));
      }
      have_valid |= first_valid;
      have_test |= first_test;
    }
    if (train.size() >= 2) out.train.push_back(last_n(train, window + 1));
  }
  return out;
}

torch::Tensor pad_left(const std::vector<const std::vector<uint32_t>*>& sequences) {
  size_t t = 1;
  for (const auto* s : sequences) t = std::max(t, s->size());
  auto tokens =
      torch::zeros({static_cast<int64_t>(sequences.size()), static_cast<int64_t>(t)}, torch::kLong);
  auto acc = tokens.accessor<int64_t, 2>();
  for (size_t b = 0; b < sequences.size(); ++b) {
    const auto& s = *sequences[b];
    const size_t off = t - s.size();
    for (size_t i = 0; i < s.size(); ++i)
      acc[static_cast<int64_t>(b)][static_cast<int64_t>(off + i)] = int64_t{s[i]} + 1;
  }
  return tokens;
}

eval::RankingSummary evaluate_sasrec(model::Sasrec& model, const std::vector<EvalQuery>& queries,
                                     torch::Device device, int64_t shuffle_seed,
                                     int64_t batch_size) {
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  eval::RankingAccumulator acc;
  std::mt19937_64 rng(static_cast<uint64_t>(std::max<int64_t>(shuffle_seed, 0)));
  std::vector<std::vector<uint32_t>> shuffled;
  for (size_t start = 0; start < queries.size(); start += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(queries.size(), start + static_cast<size_t>(batch_size));
    std::vector<const std::vector<uint32_t>*> seqs;
    shuffled.clear();
    shuffled.reserve(end - start);
    for (size_t i = start; i < end; ++i) {
      if (shuffle_seed >= 0) {
        shuffled.push_back(queries[i].history);
        std::shuffle(shuffled.back().begin(), shuffled.back().end(), rng);
        seqs.push_back(&shuffled.back());
      } else {
        seqs.push_back(&queries[i].history);
      }
    }
    auto scores = model->next_item_scores(pad_left(seqs).to(device))
                      .to(torch::kCPU, torch::kFloat32)
                      .contiguous();
    const float* p = scores.data_ptr<float>();
    const size_t n = static_cast<size_t>(scores.size(1));
    for (size_t i = start; i < end; ++i)
      acc.add(std::span<const float>(p + (i - start) * n, n), queries[i].target);
  }
  if (was_training) model->train();
  return acc.summary();
}

eval::RankingSummary evaluate_popularity(const std::vector<float>& popularity,
                                         const std::vector<EvalQuery>& queries) {
  eval::RankingAccumulator acc;
  for (const auto& q : queries) acc.add(popularity, q.target);
  return acc.summary();
}

SasrecTrainResult train_sasrec(const data::Dataset& ds, const core::SasrecConfig& mc,
                               const core::TrainConfig& tc, const std::filesystem::path& run_dir,
                               std::ostream* progress, model::Sasrec* trained) {
  const auto t0 = Clock::now();
  SasrecTrainResult result;
  const torch::Device device = resolve_device(tc.device);
  result.device = device.str();
  const SasrecData d = build_sasrec_data(ds, mc.max_len);
  SELLER_THROW_IF_NOT(!d.train.empty(), DataError, ds.path().string(),
                      ": no user has 2 or more train interactions (nothing to train on)");
  SELLER_THROW_IF_NOT(!d.test.empty(), DataError, ds.path().string(),
                      ": no test-tagged interaction with a history (nothing to evaluate)");
  result.train_sequences = d.train.size();

  torch::manual_seed(static_cast<uint64_t>(tc.seed));
  if (device.is_cuda()) torch::cuda::manual_seed_all(static_cast<uint64_t>(tc.seed));
  model::SasrecOptions o;
  o.num_items = d.num_items, o.hidden = mc.hidden, o.layers = mc.layers, o.heads = mc.heads;
  o.max_len = mc.max_len, o.dropout = mc.dropout;
  model::Sasrec model(o);
  model->to(device);
  torch::optim::AdamW opt(model->parameters(),
                          torch::optim::AdamWOptions(tc.lr).weight_decay(tc.weight_decay));
  const int64_t negatives = mc.loss == "sampled" ? mc.negatives : 0;

  JsonlLog log(run_dir);
  log.write({{"event", "start"},
             {"model", "sasrec"},
             {"data", ds.path().string()},
             {"users", ds.num_users()},
             {"items", ds.num_items()},
             {"train_sequences", d.train.size()},
             {"valid_queries", d.valid.size()},
             {"test_queries", d.test.size()},
             {"device", result.device},
             {"hidden", mc.hidden},
             {"layers", mc.layers},
             {"heads", mc.heads},
             {"max_len", mc.max_len},
             {"dropout", mc.dropout},
             {"loss", mc.loss},
             {"negatives", negatives},
             {"epochs", tc.epochs},
             {"batch_size", tc.batch_size},
             {"lr", tc.lr},
             {"weight_decay", tc.weight_decay},
             {"warmup_steps", tc.warmup_steps},
             {"clip", tc.clip},
             {"seed", tc.seed}});
  if (progress)
    *progress << "sasrec: " << ds.num_users() << " users, " << ds.num_items() << " items, "
              << d.train.size() << " training sequences, " << d.valid.size() << " valid / "
              << d.test.size() << " test queries, device " << result.device << "\n";

  const uint64_t n = d.train.size();
  const uint64_t bs = static_cast<uint64_t>(tc.batch_size);
  const int64_t steps_per_epoch = static_cast<int64_t>((n + bs - 1) / bs);
  const int64_t total_steps = steps_per_epoch * tc.epochs;
  int64_t step = 0, bad_evals = 0;
  double best_ndcg = -1.0;
  std::vector<torch::Tensor> best_state;
  std::vector<std::vector<uint32_t>> inputs, targets;
  for (int64_t epoch = 0; epoch < tc.epochs; ++epoch) {
    model->train();
    const data::EpochPermutation perm(n, static_cast<uint64_t>(tc.seed),
                                      static_cast<uint64_t>(epoch));
    double loss_sum = 0;
    for (uint64_t start = 0; start < n; start += bs, ++step) {
      const uint64_t end = std::min(n, start + bs);
      inputs.resize(end - start);
      targets.resize(end - start);
      std::vector<const std::vector<uint32_t>*> in_ptr, tg_ptr;
      for (uint64_t i = start; i < end; ++i) {
        const auto& s = d.train[perm(i)];
        inputs[i - start].assign(s.begin(), s.end() - 1);
        targets[i - start].assign(s.begin() + 1, s.end());
        in_ptr.push_back(&inputs[i - start]);
        tg_ptr.push_back(&targets[i - start]);
      }
      const double lr = scheduled_lr(tc, step, total_steps);
      for (auto& g : opt.param_groups())
        static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
      opt.zero_grad();
      auto loss = model->loss(pad_left(in_ptr).to(device), pad_left(tg_ptr).to(device), negatives);
      loss.backward();
      if (tc.clip > 0) torch::nn::utils::clip_grad_norm_(model->parameters(), tc.clip);
      opt.step();
      loss_sum += loss.item<double>();
    }
    const double epoch_loss = loss_sum / static_cast<double>(steps_per_epoch);
    result.epoch_loss.push_back(epoch_loss);
    result.epochs_run = epoch + 1;
    const bool last = epoch + 1 == tc.epochs;
    if ((epoch + 1) % tc.eval_every != 0 && !last) continue;
    if (d.valid.empty()) continue;
    const auto v = evaluate_sasrec(model, d.valid, device);
    const bool better = v.ndcg10 > best_ndcg;
    if (better) {
      best_ndcg = v.ndcg10;
      result.best_valid = v;
      result.best_epoch = epoch + 1;
      bad_evals = 0;
      best_state.clear();
      for (const auto& p : model->parameters()) best_state.push_back(p.detach().clone());
    } else {
      ++bad_evals;
    }
    log.write({{"event", "valid"},
               {"epoch", epoch + 1},
               {"step", step},
               {"loss", epoch_loss},
               {"metrics", ranking_json(v)},
               {"best", better},
               {"seconds", since(t0)}});
    if (progress)
      *progress << std::fixed << std::setprecision(4) << "epoch " << epoch + 1 << "/" << tc.epochs
                << "  loss " << epoch_loss << "  valid HR@10 " << v.hr10 << "  NDCG@10 " << v.ndcg10
                << (better ? "  *" : "") << "  (" << std::setprecision(1) << since(t0) << " s)\n";
    if (tc.patience > 0 && bad_evals >= tc.patience) {
      result.stopped_early = true;
      break;
    }
  }
  if (!best_state.empty()) {
    torch::NoGradGuard no_grad;
    auto params = model->parameters();
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(best_state[i]);
  }
  result.test = evaluate_sasrec(model, d.test, device);
  result.test_shuffled = evaluate_sasrec(model, d.test, device, tc.seed);
  result.test_popularity = evaluate_popularity(d.popularity, d.test);
  result.seconds = since(t0);
  log.write({{"event", "test"},
             {"best_epoch", result.best_epoch},
             {"epochs_run", result.epochs_run},
             {"stopped_early", result.stopped_early},
             {"metrics", ranking_json(result.test)},
             {"shuffled_history", ranking_json(result.test_shuffled)},
             {"popularity", ranking_json(result.test_popularity)},
             {"best_valid", ranking_json(result.best_valid)},
             {"wall_seconds", result.seconds}});
  if (progress)
    *progress << std::fixed << std::setprecision(4) << "test (best epoch " << result.best_epoch
              << ", " << result.test.count << " users): HR@10 " << result.test.hr10 << "  NDCG@10 "
              << result.test.ndcg10 << "  MRR " << result.test.mrr
              << "\nshuffled-history control: HR@10 " << result.test_shuffled.hr10 << "  NDCG@10 "
              << result.test_shuffled.ndcg10 << "\npopularity baseline: HR@10 "
              << result.test_popularity.hr10 << "  NDCG@10 " << result.test_popularity.ndcg10
              << "\nwall time " << std::setprecision(1) << result.seconds << " s\n";
  if (trained) *trained = model;
  return result;
}

}  // namespace seller::train
