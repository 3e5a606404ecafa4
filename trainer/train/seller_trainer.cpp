// The SELLER training loop (seller_trainer.h).
#include "trainer/train/seller_trainer.h"

#include <ATen/record_function.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <numeric>
#include <span>

#include "checkpoints/fault.h"
#include "dist/ddp/ddp.h"
#include "trainer/core/error.h"
#include "trainer/data/synthetic/prng.h"
#include "trainer/train/checkpointer.h"
#include "trainer/train/lr_schedule.h"
#include "trainer/train/metrics_log.h"
#include "trainer/train/model_parallel.h"
#include "trainer/train/sasrec_trainer.h"
#include "trainer/train/seller_optimizer.h"
#include "trainer/train/step_profiler.h"
#include "trainer/train/train_progress.h"

namespace seller::train {
namespace {

std::vector<size_t> epoch_order(size_t n, uint64_t seed, int64_t epoch) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  data::synthetic::Rng rng(seed * 1000003ULL + static_cast<uint64_t>(epoch));
  for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  return order;
}

nlohmann::json figures_json(const SellerEvalFigures& f) {
  return {{"explanation_loss", f.explanation_loss}, {"ranking", ranking_json(f.ranking)}};
}

SellerEvalFigures figures_from(const nlohmann::json& j) {
  SellerEvalFigures f;
  f.explanation_loss = j.value("explanation_loss", 0.0);
  const auto& r = j.at("ranking");
  f.ranking.count = r.value("count", uint64_t{0});
  f.ranking.hr5 = r.value("hr@5", 0.0);
  f.ranking.ndcg5 = r.value("ndcg@5", 0.0);
  f.ranking.hr10 = r.value("hr@10", 0.0);
  f.ranking.ndcg10 = r.value("ndcg@10", 0.0);
  f.ranking.hr20 = r.value("hr@20", 0.0);
  f.ranking.ndcg20 = r.value("ndcg@20", 0.0);
  f.ranking.mrr = r.value("mrr", 0.0);
  return f;
}

// The loop proper; train_seller() wraps it so that an error on one rank aborts the others.
SellerTrainResult run_training(const core::Config& cfg, const std::string& config_yaml,
                               const data::Dataset& ds, const std::filesystem::path& run_dir,
                               std::ostream* progress_all, torch::Device device, TrainDist& dist) {
  const auto t0 = Clock::now();
  const auto& tc = cfg.train;
  // Rank 0 speaks for the job: the console, metrics.jsonl and the run folder are its.
  std::ostream* progress = dist.is_main() ? progress_all : nullptr;
  const std::filesystem::path log_dir = dist.is_main() ? run_dir : std::filesystem::path{};
  const bool bf16 = device.is_cuda() && tc.autocast != "off";
  SELLER_THROW_IF_NOT(tc.autocast != "bf16" || device.is_cuda(), ConfigError,
                      "train.autocast = bf16 needs a CUDA device (train.device = ", tc.device, ")");
  torch::manual_seed(static_cast<uint64_t>(tc.seed));

  const auto examples = data::build_explain_examples(
      ds, static_cast<size_t>(cfg.sasrec.max_len),
      static_cast<size_t>(cfg.seller.max_train_examples), static_cast<uint64_t>(tc.seed));
  SELLER_THROW_IF_NOT(!examples.train.empty(), DataError, ds.path().string(),
                      ": no training pairs (train-tagged interactions with a review and at least "
                      "one earlier interaction)");
  auto run = build_seller_run(cfg, ds, examples, device, progress);
  auto& model = run.model;
  const auto tok_train = tokenize_examples(examples.train, ds, *run.tokenizer, cfg.seller);
  const auto tok_valid = tokenize_examples(examples.valid, ds, *run.tokenizer, cfg.seller);
  const auto tok_test = tokenize_examples(examples.test, ds, *run.tokenizer, cfg.seller);
  const int64_t pad = pad_id_of(*run.tokenizer);
  const auto weights = loss_weights(cfg.seller);

  // Data parallel: the same initial weights everywhere (then each rank takes its experts when the
  // adapter is expert-parallel, or its slices when the LLM is tensor-parallel; model_parallel.h).
  if (dist.enabled()) dist.broadcast_parameters(model->parameters());
  ModelParallel mp(model, cfg, dist, device, progress);

  // AdamW (seller_optimizer.h): fused on a GPU, sharded by ZeRO-1 when asked.
  SellerOptimizer optimizer(model, tc, dist, progress);
  auto& opt = optimizer.adamw();
  const auto& named = optimizer.named();
  const int64_t trainable = optimizer.trainable(), total_params = optimizer.total();

  // Gradients averaged in buckets during backward (dist/ddp/ddp.h), and each data shard its own
  // dropout stream: the ranks of a tensor-parallel group must draw the same masks, since the
  // encoders and the adapter they run as replicas feed the LLM's slices the same input.
  const auto ddp = mp.make_ddp(named);
  if (mp.data_shard() > 0)
    torch::manual_seed(static_cast<uint64_t>(tc.seed) +
                       1000003ULL * static_cast<uint64_t>(mp.data_shard()));

  const auto n = examples.train.size();
  const auto B = static_cast<size_t>(tc.batch_size);
  // Rows of a global micro-batch: one micro-batch per data shard (the ranks of a tensor-parallel
  // group share theirs).
  const auto shards = static_cast<size_t>(mp.data_shards());
  const size_t G = B * shards;
  const int64_t micro_per_epoch = static_cast<int64_t>((n + G - 1) / G);
  const int64_t steps_per_epoch = (micro_per_epoch + tc.grad_accum - 1) / tc.grad_accum;
  int64_t total_steps = tc.epochs * steps_per_epoch;
  if (tc.max_steps > 0) total_steps = std::min(total_steps, tc.max_steps);

  JsonlLog log(log_dir);
  SellerTrainResult result;
  result.main_rank = dist.is_main();
  result.device = device.str();
  result.train_examples = n;
  log.write({{"event", "start"},
             {"task", "seller"},
             {"device", result.device},
             {"ranks", dist.size()},
             {"train_pairs", n},
             {"valid_pairs", examples.valid.size()},
             {"test_pairs", examples.test.size()},
             {"parameters", total_params},
             {"trainable_parameters", trainable},
             {"tokenizer", run.tokenizer->describe()},
             {"semantic", run.semantic_name},
             {"llm_mode", cfg.seller.llm_mode},
             {"adapter", cfg.adapter.kind},
             {"total_steps", total_steps},
             {"autocast", bf16 ? "bf16" : "off"}});
  if (progress)
    *progress << "seller train: " << n << " train / " << examples.valid.size() << " valid / "
              << examples.test.size() << " test pairs on " << result.device
              << (dist.enabled() ? " x " + std::to_string(dist.size()) + " ranks" : "") << "; "
              << total_params << " parameters (" << trainable << " trainable); tokenizer "
              << run.tokenizer->describe() << "; semantic path " << run.semantic_name
              << "; adapter " << cfg.adapter.kind << "; llm " << cfg.seller.llm_mode << "; "
              << total_steps << " steps\n";

  // Resume (checkpointer.h): the loop state, weights, optimizer, best weights and RNG of the
  // newest good checkpoint; the loop below then continues from its data cursor.
  SellerCheckpointer ckpt(cfg, config_yaml, run_dir, progress, &dist, mp.layout(), mp.plan());
  ckpt.set_sharding(optimizer.sharding());
  StopSignals signals;
  LoopState loop;
  loop.total_steps = total_steps;
  loop.micro_rows = static_cast<int64_t>(G);
  std::vector<torch::Tensor> best_state;
  if (const auto from = ckpt.resume_dir()) {
    ckpt.restore(*from, model, opt, best_state, loop);
    SELLER_THROW_IF_NOT(loop.total_steps == total_steps, ConfigError, from->string(), ": planned ",
                        loop.total_steps, " steps, this run plans ", total_steps,
                        " (train.epochs, train.max_steps, the data or the global batch "
                        "batch_size x ranks x grad_accum changed)");
    continue_with_micro_rows(loop, static_cast<int64_t>(G), *from);
    log.write({{"event", "resume"}, {"step", loop.step}, {"checkpoint", from->string()}});
    if (progress)
      *progress << "resumed from " << from->string() << " at step " << loop.step << " (epoch "
                << loop.epoch << ", micro-batch " << loop.next_micro << ")\n";
  }
  result.best_epoch = loop.best_epoch;
  if (!loop.best_valid.empty()) result.best_valid = figures_from(loop.best_valid);
  // A checkpoint holds the job's window (summed over ranks): rank 0 carries it on.
  Window win = dist.is_main() ? window_from(loop.window) : Window{};
  const size_t experts = cfg.adapter.kind == "moe" ? static_cast<size_t>(cfg.adapter.experts) : 0;
  model->train();
  StepProfiler profiler(tc.profile_from, tc.profile_steps, device.is_cuda(),
                        run_dir / "profile" / ("rank-" + std::to_string(dist.rank()) + ".json"),
                        progress);
  // The window's loss sums stay on the device until a progress line or a checkpoint reads them:
  // reading each micro-batch's losses would make the host wait for the GPU every micro-batch.
  // They start from the window's host sums, so the additions happen in the same order as a
  // host-side running sum's (a resumed window continues bit for bit).
  torch::Tensor win_sums;
  const auto flush_window = [&] {
    win.moe_stats.settle();  // the dense MoE dispatch's counts (one read, as the sums below)
    loop.moe_total.settle();
    if (!win_sums.defined()) return;
    const auto h = win_sums.cpu();
    const double* v = h.data_ptr<double>();
    win.total = v[0];
    win.expl = v[1];
    win.item = v[2];
    win.rating = v[3];
    win.moe = v[4];
    win_sums = torch::Tensor();
  };
  const auto save = [&](bool sync) {
    flush_window();
    loop.window = window_json(reduce_window(win, dist, experts));
    ckpt.save(loop, model, opt, best_state, sync);
  };
  // An epoch is entered while steps remain, or to finish the one a checkpoint stopped in (its
  // validation is still due when the cursor sits inside it).
  for (int64_t epoch = loop.epoch;
       !loop.done && epoch <= tc.epochs &&
       (loop.step < total_steps || (epoch == loop.epoch && loop.next_micro > 0));
       ++epoch) {
    const auto order = epoch_order(n, static_cast<uint64_t>(tc.seed), epoch);
    const int64_t first_micro = epoch == loop.epoch ? loop.next_micro : 0;
    loop.epoch = epoch;
    for (int64_t m = first_micro; m < micro_per_epoch && loop.step < total_steps; ++m) {
      // This rank's share of the global micro-batch (train_dist.h): a rank left without rows
      // runs a zero-weight step on the batch's first row, so that it joins every collective.
      const size_t from = static_cast<size_t>(m) * G;
      const size_t global_rows = std::min(G, n - from);
      const auto [lo, hi] = TrainDist::slice(global_rows, mp.data_shard(), mp.data_shards());
      const size_t take = hi > lo ? hi - lo : 1;
      const std::span<const size_t> rows(order.data() + from + (hi > lo ? lo : 0), take);
      // Row weight (train_dist.h): this rank's rows over the rows of the whole optimizer step,
      // times the ranks DDP averages over; a partial last step of an epoch gets full weight.
      const int64_t step_first = m - m % tc.grad_accum;
      const size_t step_rows = std::min(n, static_cast<size_t>(step_first + tc.grad_accum) * G) -
                               static_cast<size_t>(step_first) * G;
      const double share = static_cast<double>(hi - lo) * static_cast<double>(shards) /
                           static_cast<double>(step_rows);
      const bool boundary = (m + 1) % tc.grad_accum == 0 || m + 1 == micro_per_epoch;
      if (ddp) ddp->set_sync(boundary);
      if (m % tc.grad_accum == 0) profiler.at_step(loop.step);
      model::SellerBatch batch;
      {
        RECORD_USER_SCOPE("seller.batch");
        // Pinned host tensors and non-blocking copies on a GPU: a plain copy waits for the stream.
        const bool gpu = device.is_cuda();
        batch = make_batch(examples.train, tok_train, rows, pad, HistoryControl::kReal, 0, gpu)
                    .to(device, gpu);
      }
      model::SellerLosses l;
      {
        RECORD_USER_SCOPE("seller.forward");
        AutocastScope autocast(bf16);
        l = model->losses(batch, weights);
      }
      {
        RECORD_USER_SCOPE("seller.backward");
        (l.total * share).backward();
      }
      if (hi > lo && mp.counts_rows()) {
        RECORD_USER_SCOPE("seller.window");
        if (!win_sums.defined()) {
          const std::vector<double> start = {win.total, win.expl, win.item, win.rating, win.moe};
          // A fresh window starts from zeros made on the device; a resumed one pays one copy.
          win_sums = std::all_of(start.begin(), start.end(), [](double x) { return x == 0.0; })
                         ? torch::zeros({5}, torch::TensorOptions(torch::kDouble).device(device))
                         : torch::tensor(start, torch::kDouble).to(device);
        }
        const auto d = [](const torch::Tensor& t) { return t.detach().to(torch::kDouble); };
        win_sums += torch::stack({d(l.total), d(l.explanation), d(l.item), d(l.rating), d(l.moe)});
        win.micro += 1;
        win.examples += static_cast<int64_t>(rows.size());
        win.tokens +=
            batch.text_tokens + static_cast<int64_t>(rows.size()) * cfg.adapter.num_prompts;
        // The dense dispatch's expert counts stay on the device until flush_window settles them.
        win.moe_stats.add(l.stats);
        loop.moe_total.add(l.stats);
      }
      loop.consumed_samples += static_cast<int64_t>(global_rows);
      loop.next_micro = m + 1;
      if (!boundary) continue;
      if (ddp) {
        RECORD_USER_SCOPE("seller.ddp_finish");
        ddp->finish();
      }
      const double lr = scheduled_lr(tc, loop.step, total_steps);
      optimizer.set_lr(lr);
      if (tc.clip > 0) {
        RECORD_USER_SCOPE("seller.clip");
        mp.clip(named, tc.clip);
      }
      {
        RECORD_USER_SCOPE("seller.optimizer");
        optimizer.step(device.is_cuda());
      }
      const int64_t step = ++loop.step;
      ckpt::fault_step(step);  // tests: SELLER_FAULT=sigusr1-at-step@N (checkpoints/fault.h)
      loop.lr = lr;
      ckpt.check();  // a failed background save stops the run here, not silently
      if (step % tc.log_every == 0 || step == total_steps) {
        RECORD_USER_SCOPE("seller.log");
        flush_window();
        const Window job = reduce_window(win, dist, experts);
        const double k = static_cast<double>(job.micro);
        const double eta =
            since(t0) / static_cast<double>(step) * static_cast<double>(total_steps - step);
        if (loop.first_window) loop.first_loss = job.total / k;
        loop.first_window = false;
        loop.last_loss = job.total / k;
        log_progress(&log, progress, job, step, total_steps, epoch, lr, eta);
        win = Window{};
      }
      // One rank's SIGTERM/SIGUSR1 stops every rank at the same step.
      int sig = 0;
      {
        RECORD_USER_SCOPE("seller.signal_check");
        sig = static_cast<int>(dist.max_one_late(StopSignals::pending()));
      }
      if (sig) {
        save(/*sync=*/true);
        log.write({{"event", "signal"}, {"signal", sig}, {"step", step}});
        if (progress)
          *progress << "signal " << sig << ": saved step " << step << " and stopping (exit "
                    << cfg.checkpoint.signal_exit_code << "; the same command resumes)\n"
                    << std::flush;
        result.stopped_by_signal = sig;
        result.steps = step;
        ckpt.finish();
        return result;
      }
      if (ckpt.due(step, total_steps)) save(/*sync=*/false);
    }
    loop.epochs_run = epoch;
    const bool last = epoch == tc.epochs || loop.step >= total_steps;
    if (!examples.valid.empty() && (epoch % tc.eval_every == 0 || last)) {
      // Every rank evaluates the whole validation set with the same weights, so all take the
      // same best-weights and patience decisions without a broadcast.
      auto v = evaluate_seller(model, examples.valid, tok_valid, pad, HistoryControl::kReal, 0,
                               device, std::max<int64_t>(tc.batch_size, 64));
      // The decision must be the same on every rank even where their figures could differ (an
      // expert-parallel MoE with capacity drops sees the union of the ranks' tokens).
      if (dist.enabled()) {
        std::vector<double> loss = {v.explanation_loss};
        dist.sum(loss);
        v.explanation_loss = loss[0] / static_cast<double>(dist.size());
      }
      const bool better = v.explanation_loss < loop.best_loss;
      if (better) {
        loop.best_loss = v.explanation_loss;
        result.best_valid = v;
        loop.best_valid = figures_json(v);
        loop.best_epoch = epoch;
        best_state.clear();
        for (const auto& p : model->parameters())
          best_state.push_back(p.detach().to(torch::kCPU).clone());
        loop.since_best = 0;
      } else {
        ++loop.since_best;
      }
      log.write({{"event", "valid"},
                 {"epoch", epoch},
                 {"step", loop.step},
                 {"valid", figures_json(v)},
                 {"best", better}});
      if (progress)
        *progress << "valid epoch " << epoch << ": explanation loss " << v.explanation_loss
                  << "  HR@10 " << v.ranking.hr10 << "  NDCG@10 " << v.ranking.ndcg10
                  << (better ? "  (best)" : "") << "\n";
    }
    // The cursor moves to the next epoch only after its validation, so a checkpoint taken at
    // the epoch's last step repeats the validation on resume and nothing else.
    loop.epoch = epoch + 1;
    loop.next_micro = 0;
    if (tc.patience > 0 && loop.since_best >= tc.patience) break;
  }
  loop.done = true;
  profiler.finish();
  if (cfg.checkpoint.save_at_end) save(/*sync=*/false);
  const int64_t step = loop.step;
  result.best_epoch = loop.best_epoch;
  result.epochs_run = loop.epochs_run;
  result.first_loss = loop.first_loss;
  result.last_loss = loop.last_loss;
  result.steps = step;
  if (!best_state.empty()) {
    torch::NoGradGuard g;
    auto ps = model->parameters();
    for (size_t i = 0; i < ps.size(); ++i) ps[i].copy_(best_state[i]);
  }
  mp.unshard();           // every rank now holds the whole model (experts, slices gathered)
  if (!dist.is_main()) {  // rank 0 evaluates the test pairs and writes the run folder
    ckpt.finish();
    result.seconds = since(t0);
    return result;
  }
  const int64_t eval_batch = std::max<int64_t>(tc.batch_size, 64);
  const uint64_t control_seed = static_cast<uint64_t>(tc.seed);
  result.test_real = evaluate_seller(model, examples.test, tok_test, pad, HistoryControl::kReal,
                                     control_seed, device, eval_batch);
  result.test_shuffled =
      evaluate_seller(model, examples.test, tok_test, pad, HistoryControl::kShuffled, control_seed,
                      device, eval_batch);
  result.test_none = evaluate_seller(model, examples.test, tok_test, pad, HistoryControl::kNone,
                                     control_seed, device, eval_batch);
  result.seconds = since(t0);
  log.write({{"event", "test"},
             {"real_history", figures_json(result.test_real)},
             {"shuffled_history", figures_json(result.test_shuffled)},
             {"no_history", figures_json(result.test_none)},
             {"best_epoch", result.best_epoch},
             {"steps", result.steps},
             {"seconds", result.seconds}});
  ckpt.finish();  // the final checkpoint is committed (or its error thrown) before the run folder
  if (!run_dir.empty()) save_seller_run(run, config_yaml, run_dir);
  if (progress) {
    char line[400];
    std::snprintf(line, sizeof line,
                  "test (%llu pairs): explanation loss %.4f (shuffled history %.4f, no history "
                  "%.4f); next item HR@10 %.4f NDCG@10 %.4f (shuffled %.4f / %.4f, none %.4f / "
                  "%.4f); %lld steps in %s\n",
                  static_cast<unsigned long long>(result.test_real.ranking.count),
                  result.test_real.explanation_loss, result.test_shuffled.explanation_loss,
                  result.test_none.explanation_loss, result.test_real.ranking.hr10,
                  result.test_real.ranking.ndcg10, result.test_shuffled.ranking.hr10,
                  result.test_shuffled.ranking.ndcg10, result.test_none.ranking.hr10,
                  result.test_none.ranking.ndcg10, static_cast<long long>(result.steps),
                  format_seconds(result.seconds).c_str());
    *progress << line;
  }
  return result;
}

}  // namespace

SellerTrainResult train_seller(const core::Config& cfg, const std::string& config_yaml,
                               const data::Dataset& ds, const std::filesystem::path& run_dir,
                               std::ostream* progress) {
  torch::Device device = resolve_device(cfg.train.device);
  const auto dist = TrainDist::from_env(cfg.train.dist_backend, device, progress);
  try {
    return run_training(cfg, config_yaml, ds, run_dir, progress, device, *dist);
  } catch (const std::exception& e) {
    // The other ranks would wait in their next collective forever: say what happened, then take
    // the job down (MPI_Abort; NCCL communicators aborted, srun/launch stop the rest).
    if (dist->enabled()) {
      std::cerr << "rank " << dist->rank() << " failed: " << e.what() << std::endl;
      dist->abort(e.what());
    }
    throw;
  }
}

}  // namespace seller::train
