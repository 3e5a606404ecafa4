// Checkpoint throughput and the training pause it causes, for a decoder-only LLM trained with
// AdamW (default ~100M parameters on CPU; `--hidden 2048 --layers 16 --device cuda` for ~1B on a
// GPU). Prints, with the machine:
//   step time without saving, with a synchronous save, and with an asynchronous save (the pause
//   is the host snapshot; the write overlaps the following steps);
//   save GB/s (snapshot + chunk file + fsync + manifest + commit) and load GB/s (read + crc32);
//   torch.save / torch.load of the same state dict (model + AdamW moments) by the venv's Python
//   in the same run, on the same disk.
// Usage: bench_checkpoint [--hidden H] [--layers L] [--vocab V] [--tokens T] [--steps S]
//                         [--device cpu|cuda] [--dir DIR] [--python PY]
#if __has_include(<torch/torch.h>)
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include "bench/bench_machine.h"
#include "checkpoints/async_saver.h"
#include "checkpoints/store.h"
#include "trainer/model/llm/from_config.h"
#include "trainer/train/train_state.h"

namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
double secs(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Args {
  int64_t hidden = 768, layers = 12, vocab = 32000, tokens = 64, steps = 4;
  std::string device = "cpu", dir = "/tmp/seller-bench-ckpt", python;
};

Args parse(int argc, char** argv) {
  Args a;
  a.python = std::string(SELLER_SOURCE_DIR) + "/.venv/bin/python";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--hidden")
      a.hidden = std::stoll(v);
    else if (k == "--layers")
      a.layers = std::stoll(v);
    else if (k == "--vocab")
      a.vocab = std::stoll(v);
    else if (k == "--tokens")
      a.tokens = std::stoll(v);
    else if (k == "--steps")
      a.steps = std::stoll(v);
    else if (k == "--device")
      a.device = v;
    else if (k == "--dir")
      a.dir = v;
    else if (k == "--python")
      a.python = v;
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace seller;
  const Args a = parse(argc, argv);
  const torch::Device device(a.device);
  fs::remove_all(a.dir);
  fs::create_directories(a.dir);
  core::LlmConfig llm;
  llm.vocab_size = a.vocab;
  llm.hidden_size = a.hidden;
  llm.intermediate_size = a.hidden * 8 / 3 / 64 * 64;
  llm.layers = a.layers;
  llm.heads = a.hidden / 64;
  llm.kv_heads = a.hidden / 64;
  llm.head_dim = 64;
  llm.tie_embeddings = false;
  auto decoder = model::build_decoder(llm, 1, device, torch::kFloat32);
  int64_t params = 0;
  for (const auto& p : decoder->parameters()) params += p.numel();
  torch::optim::AdamW opt(decoder->parameters(), torch::optim::AdamWOptions(1e-4));
  const auto ids = torch::randint(a.vocab, {1, a.tokens},
                                  torch::TensorOptions().dtype(torch::kLong).device(device));
  auto step = [&] {
    model::DecoderInput in;
    in.input_ids = ids;
    auto logits = decoder->forward(in);
    auto loss = torch::nn::functional::cross_entropy(logits.view({-1, a.vocab}), ids.view({-1}));
    loss.backward();
    opt.step();
    opt.zero_grad();
    if (device.is_cuda()) torch::cuda::synchronize();
  };
  train::NamedTensors named;
  for (const auto& p : decoder->named_parameters()) named.emplace_back(p.key(), p.value());
  auto snapshot = [&](int64_t s) {
    ckpt::SaveRequest req;
    req.step = s;
    req.config_yaml = "bench: true\n";
    train::Snapshot snap;
    snap.add_all("model/", named);
    snap.add_optimizer(opt, named, req.train_state);
    snap.add_rng(0, 1, req.train_state);
    req.chunks = snap.finish();
    return std::make_pair(std::move(req), snap.bytes());
  };
  ckpt::CheckpointStore store(fs::path(a.dir) / "checkpoints", {});
  step();  // creates the optimizer state
  step();
  // 1. No saving.
  auto t = Clock::now();
  for (int64_t i = 0; i < a.steps; ++i) step();
  const double base = secs(t) / static_cast<double>(a.steps);
  // 2. Synchronous save between steps: the pause is the whole save.
  t = Clock::now();
  auto [req, bytes] = snapshot(100);
  const double snap_s = secs(t);
  store.save(req);
  const double sync_pause = secs(t);
  req.chunks.clear();
  // 3. Asynchronous: snapshot (the pause), then steps while the background write runs.
  ckpt::AsyncSaver saver;
  t = Clock::now();
  auto r2 = std::make_shared<ckpt::SaveRequest>(snapshot(200).first);
  saver.submit([&store, r2] { store.save(*r2); });
  const double async_pause = secs(t);
  // The same number of steps as the baseline, started right after the snapshot; the write runs
  // beside them (and may outlast them: then the wait below is the remaining pause).
  const auto t_async = Clock::now();
  for (int64_t i = 0; i < a.steps; ++i) step();
  const double async_step = secs(t_async) / static_cast<double>(a.steps);
  const bool overlapped_all = !saver.busy();
  const auto t_wait = Clock::now();
  saver.wait();
  const double async_wait = secs(t_wait);
  // 4. Load: read every tensor back with its crc32.
  const auto dir = fs::path(a.dir) / "checkpoints" / ckpt::CheckpointStore::step_name(200);
  t = Clock::now();
  train::CheckpointSource src(dir);
  uint64_t loaded = 0;
  for (const auto& e : src.manifest().tensors) loaded += src.tensor(e.name).nbytes();
  const double load_s = secs(t);
  // 5. torch.save / torch.load of the same state dict (read from our chunk file by safetensors
  // onto the training device, so that torch.save also pays the device-to-host copy ours does).
  const std::string py_cmd =
      a.python +
      " -c \"import time,torch,os,sys\n"
      "from safetensors.torch import load_file\n"
      "sd=load_file(sys.argv[1], device=sys.argv[3]); n=sum(t.numel()*t.element_size() for t in "
      "sd.values())\n"
      "p=sys.argv[2]; t=time.perf_counter(); torch.save(sd,p)\n"
      "f=os.open(p,os.O_RDONLY); os.fsync(f); os.close(f); s=time.perf_counter()-t\n"
      "t=time.perf_counter(); torch.load(p, map_location=sys.argv[3]); l=time.perf_counter()-t\n"
      "print('torch.save %.2f GB/s (%.2f s), torch.load %.2f GB/s' % (n/s/1e9, s, n/l/1e9))\" " +
      (dir / "rank-00000.safetensors").string() + " " + (fs::path(a.dir) / "sd.pt").string() + " " +
      a.device;
  std::printf("machine: %s, %d threads, device %s\n", bench::cpu_model().c_str(),
              torch::get_num_threads(), a.device.c_str());
  std::printf(
      "model: %.1fM parameters (hidden %lld, layers %lld, vocab %lld); checkpoint %.2f GB "
      "(weights + AdamW moments + RNG); %lld tokens per step\n",
      params / 1e6, static_cast<long long>(a.hidden), static_cast<long long>(a.layers),
      static_cast<long long>(a.vocab), bytes / 1e9, static_cast<long long>(a.tokens));
  std::printf("step time, no save:        %.3f s\n", base);
  std::printf("sync save:  pause %.3f s (snapshot %.3f s + write/commit %.3f s) -> %.2f GB/s\n",
              sync_pause, snap_s, sync_pause - snap_s, bytes / sync_pause / 1e9);
  std::printf(
      "async save: pause %.3f s (snapshot); the next %lld steps at %.3f s per step "
      "(%+.0f%% vs no save) %s; then %.3f s waiting for the write\n",
      async_pause, static_cast<long long>(a.steps), async_step, 100.0 * (async_step / base - 1.0),
      overlapped_all ? "covered the whole write" : "ran beside part of the write", async_wait);
  std::printf("load (read + crc32): %.2f GB/s (%.3f s)\n", loaded / load_s / 1e9, load_s);
  std::fflush(stdout);
  if (std::system(py_cmd.c_str()) != 0) std::printf("torch.save comparison: python failed\n");
  fs::remove_all(a.dir);
  return 0;
}
#else
#include <cstdio>
int main() {
  std::printf("bench_checkpoint: built without LibTorch\n");
  return 0;
}
#endif
