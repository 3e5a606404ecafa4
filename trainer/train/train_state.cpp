// Host snapshots of the trainer's tensors and their restore (train_state.h).
#include "trainer/train/train_state.h"

#include <ATen/Context.h>
#include <torch/cuda.h>

#include <mutex>
#include <sstream>

#include "trainer/core/error.h"
#include "trainer/model/state_io.h"

namespace seller::train {
namespace {

std::vector<int64_t> dims(const torch::Tensor& t) { return {t.sizes().begin(), t.sizes().end()}; }

}  // namespace

std::vector<at::Generator> default_generators() {
  std::vector<at::Generator> gens = {at::globalContext().defaultGenerator(c10::DeviceType::CPU)};
  const int64_t devices = torch::cuda::is_available() ? torch::cuda::device_count() : 0;
  for (int64_t i = 0; i < devices; ++i)
    gens.push_back(at::globalContext().defaultGenerator(
        c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(i))));
  return gens;
}

torch::Tensor generator_state(const at::Generator& g) {
  auto gen = g;
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_generator_state(const at::Generator& g, const torch::Tensor& state) {
  auto gen = g;
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

torch::ScalarType torch_dtype(io::DType t) {
  switch (t) {
    case io::DType::kF32:
      return torch::kFloat32;
    case io::DType::kBF16:
      return torch::kBFloat16;
    case io::DType::kF16:
      return torch::kFloat16;
    case io::DType::kF64:
      return torch::kFloat64;
    case io::DType::kI64:
      return torch::kInt64;
    case io::DType::kI32:
      return torch::kInt32;
    case io::DType::kU8:
      return torch::kUInt8;
    case io::DType::kI8:
      return torch::kInt8;
    case io::DType::kBool:
      return torch::kBool;
    default:
      break;
  }
  throw FormatError(detail::concat("checkpoint dtype ", io::dtype_name(t), " has no torch type"));
}

void Snapshot::add(const std::string& name, const torch::Tensor& t, const TensorShard& shard) {
  const auto src = t.detach();
  torch::Tensor host;
  if (src.is_cuda()) {  // pinned, so the copy is a DMA that overlaps with the next ones
    host = torch::empty(src.sizes(), src.options().device(torch::kCPU).pinned_memory(true));
    host.copy_(src, /*non_blocking=*/true);
    cuda_ = true;
  } else {
    host = src.clone(at::MemoryFormat::Contiguous);
  }
  ckpt::ChunkData c;
  c.name = name;
  c.dtype = model::io_dtype(host.scalar_type(), name);
  c.global_shape = dims(host);
  c.box = {std::vector<int64_t>(c.global_shape.size(), 0), c.global_shape};
  if (shard.global >= 0) {
    const auto d = static_cast<size_t>(shard.dim);
    SELLER_CHECK(d < c.global_shape.size() && shard.start + c.global_shape[d] <= shard.global, name,
                 ": dim ", shard.dim, " range ", shard.start, "+",
                 d < c.global_shape.size() ? c.global_shape[d] : 0, " outside ", shard.global);
    c.global_shape[d] = shard.global;
    c.box.offset[d] = shard.start;
  }
  c.bytes = {static_cast<const std::byte*>(host.data_ptr()), host.nbytes()};
  c.owner = std::make_shared<torch::Tensor>(host);
  bytes_ += host.nbytes();
  chunks_.push_back(std::move(c));
}

void Snapshot::add_all(const std::string& prefix, const NamedTensors& named,
                       const ShardPlan& plan) {
  for (const auto& [n, t] : named)
    if (plan.write(n)) add(prefix + n, t, plan.of(n));
}

void Snapshot::add_optimizer(torch::optim::AdamW& opt, const NamedTensors& params,
                             nlohmann::json& state, const ShardPlan& plan) {
  nlohmann::json steps = nlohmann::json::object();
  for (const auto& [n, p] : params) {
    const auto it = opt.state().find(p.unsafeGetTensorImpl());
    if (it == opt.state().end()) continue;
    auto& s = static_cast<torch::optim::AdamWParamState&>(*it->second);
    steps[n] = s.step();
    if (!plan.write(n)) continue;
    const auto shard = plan.of(n);
    add("optim/" + n + "/exp_avg", s.exp_avg(), shard);
    add("optim/" + n + "/exp_avg_sq", s.exp_avg_sq(), shard);
    if (s.max_exp_avg_sq().defined())
      add("optim/" + n + "/max_exp_avg_sq", s.max_exp_avg_sq(), shard);
  }
  state["optimizer_steps"] = steps;
}

void Snapshot::add_rng(int64_t rank, int64_t world, nlohmann::json& state) {
  auto row = [&](const std::string& name, const torch::Tensor& s) {
    auto host = s.contiguous().to(torch::kUInt8).reshape({1, s.numel()}).clone();
    ckpt::ChunkData c;
    c.name = name;
    c.dtype = io::DType::kU8;
    c.global_shape = {world, s.numel()};
    c.box = {{rank, 0}, {1, s.numel()}};
    c.bytes = {static_cast<const std::byte*>(host.data_ptr()), host.nbytes()};
    c.owner = std::make_shared<torch::Tensor>(host);
    bytes_ += host.nbytes();
    chunks_.push_back(std::move(c));
  };
  const auto gens = default_generators();
  row("rng/cpu", generator_state(gens[0]));
  for (size_t i = 1; i < gens.size(); ++i)
    row("rng/cuda" + std::to_string(i - 1), generator_state(gens[i]));
  state["rng"] = {{"world", world}, {"cuda_devices", gens.size() - 1}};
}

std::vector<ckpt::ChunkData> Snapshot::finish() {
  if (cuda_) torch::cuda::synchronize();
  return std::move(chunks_);
}

CheckpointSource::CheckpointSource(const std::filesystem::path& dir)
    : dir_(dir), manifest_(ckpt::read_manifest(dir)), reader_(dir) {}

torch::Tensor CheckpointSource::tensor(const std::string& name) {
  const auto* t = manifest_.find(name);
  SELLER_THROW_IF_NOT(t != nullptr, FormatError, (dir_ / ckpt::kManifestName).string(),
                      ": has no tensor '", name, "'");
  auto out = torch::empty(t->shape, torch::TensorOptions().dtype(torch_dtype(t->dtype)));
  reader_.read(*t, {std::vector<int64_t>(t->shape.size(), 0), t->shape},
               {static_cast<std::byte*>(out.data_ptr()), out.nbytes()});
  return out;
}

torch::Tensor CheckpointSource::tensor(const std::string& name, const TensorShard& shard,
                                       const std::vector<int64_t>& local) {
  if (shard.global < 0) return tensor(name);
  const auto* t = manifest_.find(name);
  SELLER_THROW_IF_NOT(t != nullptr, FormatError, (dir_ / ckpt::kManifestName).string(),
                      ": has no tensor '", name, "'");
  std::vector<int64_t> offset(local.size(), 0);
  offset.at(static_cast<size_t>(shard.dim)) = shard.start;
  auto out = torch::empty(local, torch::TensorOptions().dtype(torch_dtype(t->dtype)));
  reader_.read(*t, {offset, local}, {static_cast<std::byte*>(out.data_ptr()), out.nbytes()});
  return out;
}

void CheckpointSource::load_into(const std::string& prefix, const NamedTensors& targets,
                                 const ShardPlan& plan) {
  std::ostringstream problems;
  std::set<std::string> wanted;
  for (const auto& [n, dst] : targets) {
    wanted.insert(prefix + n);
    const auto* t = manifest_.find(prefix + n);
    auto global = dims(dst);
    if (const auto sh = plan.of(n); sh.global >= 0 && static_cast<size_t>(sh.dim) < global.size())
      global[static_cast<size_t>(sh.dim)] = sh.global;
    if (!t)
      problems << "\n  missing: " << prefix << n;
    else if (t->shape != global)
      problems << "\n  shape of " << prefix << n << ": checkpoint " << torch::IntArrayRef(t->shape)
               << ", model " << dst.sizes();
  }
  for (const auto& t : manifest_.tensors)
    if (t.name.rfind(prefix, 0) == 0 && !wanted.count(t.name))
      problems << "\n  unexpected: " << t.name;
  const auto text = problems.str();
  SELLER_THROW_IF_NOT(
      text.empty(), FormatError, (dir_ / ckpt::kManifestName).string(),
      ": the checkpoint does not match the model (another model's checkpoint?):", text);
  torch::NoGradGuard no_grad;
  for (const auto& [n, dst] : targets) {
    auto src = tensor(prefix + n, plan.of(n), dims(dst));
    const_cast<torch::Tensor&>(dst).copy_(src.to(dst.device(), dst.scalar_type()));
  }
}

void CheckpointSource::load_optimizer(torch::optim::AdamW& opt, const NamedTensors& params,
                                      const ShardPlan& plan) {
  const auto& steps = manifest_.train_state.value("optimizer_steps", nlohmann::json::object());
  for (const auto& [n, p] : params) {
    if (!steps.contains(n)) continue;
    auto s = std::make_unique<torch::optim::AdamWParamState>();
    s->step(steps.at(n).get<int64_t>());
    const auto shard = plan.of(n);
    const auto local = dims(p);
    auto read = [&](const std::string& what) {
      return tensor("optim/" + n + "/" + what, shard, local).to(p.device(), p.scalar_type());
    };
    s->exp_avg(read("exp_avg"));
    s->exp_avg_sq(read("exp_avg_sq"));
    if (has("optim/" + n + "/max_exp_avg_sq")) s->max_exp_avg_sq(read("max_exp_avg_sq"));
    opt.state()[p.unsafeGetTensorImpl()] = std::move(s);
  }
}

void CheckpointSource::load_rng(int64_t rank, int64_t world, std::ostream* warn) {
  if (manifest_.layout.world() != world) {
    if (warn)
      *warn << "warning: " << dir_.string() << " was written by " << manifest_.layout.world()
            << " ranks, this run has " << world
            << ": random generators are seeded afresh, not restored (dropout draws differ)\n";
    return;
  }
  // A fresh tensor per row: the generators read their state from the start of its storage.
  auto row = [&](const std::string& name) { return tensor(name)[rank].clone(); };
  const auto gens = default_generators();
  set_generator_state(gens[0], row("rng/cpu"));
  for (size_t i = 1; i < gens.size(); ++i)
    if (const auto name = "rng/cuda" + std::to_string(i - 1); has(name))
      set_generator_state(gens[i], row(name));
}

}  // namespace seller::train
