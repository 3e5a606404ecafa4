// Safetensors writers (see safetensors_writer.h). The header is built with ordered_json so that
// key order, and therefore the bytes, match the reference serializer.
#include "trainer/io/safetensors_writer.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <system_error>

#include "trainer/core/error.h"
#include "trainer/io/atomic_file.h"

namespace seller::io {
namespace fs = std::filesystem;
namespace {

using ordered_json = nlohmann::ordered_json;

void check_input(const TensorView& t, std::string_view destination) {
  auto bad = [&](const std::string& what) {
    throw FormatError(detail::concat(destination, ": cannot write tensor '", t.name, "': ", what));
  };
  if (t.name == "__metadata__") bad("the name is reserved for the metadata map");
  uint64_t numel = 1;
  for (int64_t d : t.shape) {
    if (d < 0) bad("negative dimension " + std::to_string(d));
    if (__builtin_mul_overflow(numel, static_cast<uint64_t>(d), &numel)) bad("shape overflows");
  }
  uint64_t nbytes = 0;
  if (__builtin_mul_overflow(numel, dtype_size(t.dtype), &nbytes) || nbytes != t.data.size()) {
    bad(detail::concat("has ", t.data.size(), " bytes of data but dtype ", dtype_name(t.dtype),
                       " and its shape need ", numel, " elements"));
  }
}

std::string shard_name(const std::string& prefix, size_t index, size_t count) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "-%05zu-of-%05zu.safetensors", index, count);
  return prefix + buf;
}

void remove_quietly(const fs::path& path) {
  std::error_code ec;
  fs::remove(path, ec);
}

}  // namespace

SafetensorsLayout plan_safetensors(std::span<const TensorView> tensors,
                                   const SafetensorsMetadata& metadata,
                                   std::string_view destination) {
  SafetensorsLayout layout;
  std::set<std::string_view> names;
  for (const auto& t : tensors) {
    check_input(t, destination);
    if (!names.insert(t.name).second) {
      throw FormatError(detail::concat(destination, ": cannot write tensor '", t.name, "' twice"));
    }
    layout.order.push_back(&t);
  }
  // The reference's order: descending dtype (its enum lists dtypes by increasing alignment),
  // then name. Every tensor then starts at a multiple of its element size.
  std::sort(layout.order.begin(), layout.order.end(), [](const TensorView* a, const TensorView* b) {
    if (a->dtype != b->dtype) return a->dtype > b->dtype;
    return a->name < b->name;
  });

  ordered_json header = ordered_json::object();
  if (!metadata.empty()) {
    ordered_json meta = ordered_json::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
    header["__metadata__"] = std::move(meta);
  }
  uint64_t offset = 0;
  for (const TensorView* t : layout.order) {
    ordered_json entry = ordered_json::object();
    entry["dtype"] = std::string(dtype_name(t->dtype));
    entry["shape"] = t->shape;
    entry["data_offsets"] = {offset, offset + t->data.size()};
    offset += t->data.size();
    header[t->name] = std::move(entry);
  }
  layout.data_bytes = offset;

  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(detail::concat(destination,
                                     ": cannot write header (tensor or metadata "
                                     "names must be valid UTF-8): ",
                                     e.what()));
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  const uint64_t n = text.size();
  layout.prefix.resize(8);
  for (int i = 0; i < 8; ++i) layout.prefix[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  layout.prefix += text;
  return layout;
}

void write_safetensors(const fs::path& path, std::span<const TensorView> tensors,
                       const SafetensorsMetadata& metadata) {
  const auto layout = plan_safetensors(tensors, metadata, path.string());
  AtomicFile out(path);
  out.write(layout.prefix);
  for (const TensorView* t : layout.order) out.write(t->data.data(), t->data.size());
  out.commit();
}

ShardedWriteResult write_sharded_safetensors(const fs::path& dir,
                                             std::span<const TensorView> tensors,
                                             uint64_t max_shard_bytes,
                                             const SafetensorsMetadata& metadata,
                                             const std::string& prefix) {
  if (max_shard_bytes == 0) {
    throw FormatError(detail::concat(dir.string(), ": max shard size must be positive"));
  }
  if (prefix.empty() || prefix.find('/') != std::string::npos) {
    throw FormatError(detail::concat(dir.string(), ": bad shard prefix '", prefix, "'"));
  }
  // Greedy packing in the caller's order, as huggingface_hub's split_torch_state_dict_into_shards.
  std::vector<std::vector<TensorView>> groups;
  uint64_t current = 0;
  ShardedWriteResult result;
  for (const auto& t : tensors) {
    const uint64_t size = t.data.size();
    if (groups.empty() || (current > 0 && current + size > max_shard_bytes)) {
      groups.emplace_back();
      current = 0;
    }
    groups.back().push_back(t);
    current += size;
    result.total_size += size;
  }
  if (groups.empty()) groups.emplace_back();

  fs::create_directories(dir);
  const fs::path index_path = dir / (prefix + ".safetensors.index.json");
  const fs::path single_path = dir / (prefix + ".safetensors");
  if (groups.size() == 1) {
    write_safetensors(single_path, groups[0], metadata);
    result.shards.push_back(single_path);
    remove_quietly(index_path);  // a stale index would shadow the new file
    return result;
  }

  // Check every tensor (and duplicates across shards) before writing anything.
  (void)plan_safetensors(tensors, metadata, dir.string());
  nlohmann::json weight_map = nlohmann::json::object();
  for (size_t i = 0; i < groups.size(); ++i) {
    const std::string name = shard_name(prefix, i + 1, groups.size());
    write_safetensors(dir / name, groups[i], metadata);
    result.shards.push_back(dir / name);
    for (const auto& t : groups[i]) weight_map[t.name] = name;
  }
  nlohmann::json index = {{"metadata", {{"total_size", result.total_size}}},
                          {"weight_map", std::move(weight_map)}};
  write_file_atomically(index_path, index.dump(2) + "\n");
  result.index = index_path;

  // Files of an earlier save under the same prefix would confuse a reader of the folder.
  remove_quietly(single_path);
  const std::regex old_shard(
      std::regex_replace(prefix, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
      R"(-\d{5}-of-\d{5}\.safetensors)");
  std::set<fs::path> fresh(result.shards.begin(), result.shards.end());
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string file = entry.path().filename().string();
    if (std::regex_match(file, old_shard) && !fresh.count(entry.path())) {
      remove_quietly(entry.path());
    }
  }
  return result;
}

}  // namespace seller::io
