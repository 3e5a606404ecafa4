// Named-tensor files (state_io.h).
#include "trainer/model/state_io.h"

#include <torch/nn/module.h>
#include <torch/torch.h>

#include <set>
#include <sstream>

#include "trainer/core/error.h"
#include "trainer/io/safetensors_writer.h"
#include "trainer/model/llm/hf_import.h"

namespace seller::model {
namespace {

bool skipped(const std::string& name, const std::vector<std::string>& prefixes) {
  for (const auto& p : prefixes)
    if (name.rfind(p, 0) == 0) return true;
  return false;
}

}  // namespace

io::DType io_dtype(torch::ScalarType t, const std::string& name) {
  switch (t) {
    case torch::kFloat32:
      return io::DType::kF32;
    case torch::kBFloat16:
      return io::DType::kBF16;
    case torch::kFloat16:
      return io::DType::kF16;
    case torch::kFloat64:
      return io::DType::kF64;
    case torch::kInt64:
      return io::DType::kI64;
    case torch::kInt32:
      return io::DType::kI32;
    case torch::kUInt8:
      return io::DType::kU8;
    case torch::kInt8:
      return io::DType::kI8;
    case torch::kBool:
      return io::DType::kBool;
    default:
      break;
  }
  throw FormatError(
      detail::concat("tensor '", name, "' has a dtype seller does not store: ", c10::toString(t)));
}

void save_tensors(const std::filesystem::path& path,
                  const std::map<std::string, torch::Tensor>& tensors,
                  const std::map<std::string, std::string>& metadata) {
  std::vector<torch::Tensor> keep;
  std::vector<io::TensorView> views;
  keep.reserve(tensors.size());
  for (const auto& [name, t] : tensors) {
    keep.push_back(t.detach().to(torch::kCPU).contiguous());
    const auto& cpu = keep.back();
    io::TensorView v;
    v.name = name;
    v.dtype = io_dtype(cpu.scalar_type(), name);
    v.shape.assign(cpu.sizes().begin(), cpu.sizes().end());
    v.data = {static_cast<const std::byte*>(cpu.data_ptr()), cpu.nbytes()};
    views.push_back(std::move(v));
  }
  io::write_safetensors(path, views, metadata);
}

std::map<std::string, torch::Tensor> load_tensors(const std::filesystem::path& path) {
  const auto file = io::SafetensorsFile::open(path);
  std::map<std::string, torch::Tensor> out;
  for (const auto& view : file.tensors()) out.emplace(view.name, tensor_from_view(view).clone());
  return out;
}

void load_into(torch::nn::Module& module, const std::map<std::string, torch::Tensor>& tensors,
               const std::string& origin, const std::vector<std::string>& skip_prefixes) {
  std::map<std::string, torch::Tensor> targets;
  for (const auto& p : module.named_parameters(true)) targets.emplace(p.key(), p.value());
  for (const auto& b : module.named_buffers(true)) targets.emplace(b.key(), b.value());
  std::ostringstream problems;
  std::set<std::string> used;
  for (auto& [name, dst] : targets) {
    if (skipped(name, skip_prefixes)) continue;
    const auto it = tensors.find(name);
    if (it == tensors.end()) {
      problems << "\n  missing: " << name;
      continue;
    }
    used.insert(name);
    if (it->second.sizes() != dst.sizes()) {
      problems << "\n  shape of " << name << ": file " << it->second.sizes() << ", model "
               << dst.sizes();
      continue;
    }
  }
  for (const auto& [name, t] : tensors)
    if (!skipped(name, skip_prefixes) && !targets.count(name))
      problems << "\n  unexpected: " << name;
  const auto text = problems.str();
  SELLER_THROW_IF_NOT(text.empty(), FormatError, origin, ": tensors do not match the model:", text);
  torch::NoGradGuard no_grad;
  for (const auto& name : used) {
    auto& dst = targets.at(name);
    dst.copy_(tensors.at(name).to(dst.device(), dst.scalar_type()));
  }
}

}  // namespace seller::model
