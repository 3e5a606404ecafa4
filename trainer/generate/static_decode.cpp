// Fixed-shape greedy decoding, with CUDA-graph replay on GPU (see static_decode.h).
#include "trainer/generate/static_decode.h"

#include "trainer/core/error.h"

#include <torch/torch.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <functional>
#include <memory>
#include <optional>

#if SELLER_HAVE_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace seller::generate {
namespace {

// Steps run between two reads of the generated tokens: the host checks for EOS only every
// kSyncEvery steps, so launches overlap with the GPU; a row that ended early costs at most
// kSyncEvery - 1 wasted steps, whose tokens are dropped.
constexpr int64_t kSyncEvery = 16;

// Records the tokens of steps [0, n) (host tensor [n, B]) for every unfinished row; returns
// whether any row is still running.
bool record(const torch::Tensor& tokens_host, const SamplingOptions& options,
            std::vector<GenerationResult>& results, std::vector<bool>& done) {
  bool running = false;
  const auto t = tokens_host.accessor<int64_t, 2>();
  for (int64_t s = 0; s < tokens_host.size(0); ++s) {
    running = false;
    for (size_t i = 0; i < results.size(); ++i) {
      if (done[i]) continue;
      const int64_t tok = t[s][static_cast<int64_t>(i)];
      results[i].tokens.push_back(tok);
      const bool eos =
          std::find(options.eos_ids.begin(), options.eos_ids.end(), tok) != options.eos_ids.end();
      results[i].stopped_by_eos = eos;
      done[i] = eos || static_cast<int64_t>(results[i].tokens.size()) >= options.max_new_tokens;
      running = running || !done[i];
    }
    if (!running) break;
  }
  return running;
}

}  // namespace

struct StaticDecodeSession {
  std::weak_ptr<model::DecoderImpl> owner;  // a freed decoder's address may be reused
  model::KvCache cache;
  torch::Tensor ids, positions, write_index, step_index, tokens;
#if SELLER_HAVE_CUDA
  std::unique_ptr<at::cuda::CUDAGraph> graph;
  std::optional<c10::cuda::CUDAStream> stream;
#endif
};

namespace {

struct SessionKey {
  const void* decoder;
  int64_t batch, capacity;
  int dtype;
  std::string device;
  bool operator<(const SessionKey& o) const {
    return std::tie(decoder, batch, capacity, dtype, device) <
           std::tie(o.decoder, o.batch, o.capacity, o.dtype, o.device);
  }
};

std::mutex pool_mutex;
std::map<SessionKey, std::shared_ptr<StaticDecodeSession>>& pool() {
  static std::map<SessionKey, std::shared_ptr<StaticDecodeSession>> sessions;
  return sessions;
}
constexpr size_t kMaxPooledSessions = 4;  // bounds the memory held by idle KV caches

}  // namespace

std::shared_ptr<StaticDecodeSession> acquire_static_session(model::Decoder& decoder, int64_t batch,
                                                            int64_t capacity,
                                                            torch::ScalarType dtype,
                                                            torch::Device device) {
  std::lock_guard<std::mutex> lock(pool_mutex);
  SessionKey key{decoder.get(), batch, capacity, static_cast<int>(dtype), device.str()};
  auto& sessions = pool();
  for (auto it = sessions.begin(); it != sessions.end();) {  // drop sessions of freed decoders
    it = it->second->owner.expired() ? sessions.erase(it) : std::next(it);
  }
  if (auto it = sessions.find(key); it != sessions.end()) return it->second;
  if (sessions.size() >= kMaxPooledSessions) sessions.erase(sessions.begin());
  auto s = std::make_shared<StaticDecodeSession>();
  s->owner = decoder.ptr();
  const auto long_opts = torch::TensorOptions().dtype(torch::kLong).device(device);
  s->cache = model::KvCache::allocate(decoder->config(), batch, capacity, dtype, device);
  s->ids = torch::zeros({batch, 1}, long_opts);
  s->positions = torch::zeros({batch, 1}, long_opts);
  s->write_index = torch::zeros({1}, long_opts);
  s->step_index = torch::zeros({1}, long_opts);
  s->tokens = torch::zeros({capacity, batch}, long_opts);
  sessions.emplace(key, s);
  return s;
}

model::KvCache& session_cache(StaticDecodeSession& session) {
  session.cache.slot_valid.zero_();
  session.cache.length = 0;
  session.cache.write_index = torch::Tensor();
  return session.cache;
}

void release_static_sessions() {
  std::lock_guard<std::mutex> lock(pool_mutex);
  pool().clear();
}

void run_static_greedy(model::Decoder& decoder, StaticDecodeSession& session,
                       const std::vector<int64_t>& first_tokens, const torch::Tensor& positions,
                       const SamplingOptions& options, std::vector<GenerationResult>& results) {
  torch::NoGradGuard no_grad;
  model::KvCache& cache = session.cache;
  std::vector<bool> done(results.size(), false);
  auto first = torch::tensor(first_tokens, torch::kLong).view({1, -1});
  if (!record(first, options, results, done)) return;
  const int64_t steps = options.max_new_tokens - 1;  // the first token came from the prefill
  SELLER_CHECK(cache.length + steps <= cache.capacity(), "static decode beyond the cache");
  session.ids.copy_(first.view({-1, 1}));
  session.positions.copy_(positions.view({-1, 1}));
  session.write_index.fill_(cache.length);
  session.step_index.zero_();
  cache.write_index = session.write_index;

  // One step: in-place updates of ids, positions, the write slot and the token log.
  auto step = [&] {
    model::DecoderInput in;
    in.input_ids = session.ids;
    in.positions = session.positions;
    in.cache = &cache;
    auto logits = decoder->logits(decoder->hidden_states(in)).select(1, 0);
    session.ids.copy_(logits.argmax(-1, /*keepdim=*/true));
    session.tokens.index_copy_(0, session.step_index, session.ids.view({1, -1}));
    session.positions.add_(1);
    cache.write_index.add_(1);
    session.step_index.add_(1);
  };
  std::function<void()> run_step = step;
  int64_t done_steps = 0;
#if SELLER_HAVE_CUDA
  std::optional<c10::cuda::CUDAStreamGuard> guard;
  if (cache.slot_valid.is_cuda() && options.cuda_graph && steps > 1) {
    // Capture needs a side stream; a first eager step warms up cuBLAS/SDPA workspaces (it is a
    // real step of this generation). Later calls of the same shape replay the pooled graph.
    if (!session.stream) session.stream = c10::cuda::getStreamFromPool(false, cache.slot_valid.device().index());
    guard.emplace(*session.stream);
    guard->current_stream().synchronize();
    if (!session.graph) {
      step();
      ++done_steps;
      session.graph = std::make_unique<at::cuda::CUDAGraph>();
      session.graph->capture_begin();
      step();  // recorded, not run
      session.graph->capture_end();
    }
    run_step = [&] { session.graph->replay(); };
  }
#endif
  int64_t recorded = 0;
  bool running = true;
  while (running && recorded < steps) {
    const int64_t until = std::min(steps, recorded + kSyncEvery);
    for (; done_steps < until; ++done_steps) run_step();
    running = record(session.tokens.narrow(0, recorded, until - recorded).cpu(), options, results,
                     done);
    recorded = until;
  }
  cache.length += done_steps;
  cache.write_index = torch::Tensor();
}

}  // namespace seller::generate
