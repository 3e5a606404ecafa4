// Lazily loaded sharded safetensors checkpoints (see safetensors_sharded.h).
#include "trainer/io/safetensors_sharded.h"

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <system_error>

#include "trainer/core/error.h"
#include "trainer/io/json_strict.h"
#include "trainer/io/mmap_file.h"

namespace seller::io {
namespace fs = std::filesystem;

struct ShardedSafetensors::Impl {
  fs::path index_path;
  std::optional<uint64_t> total_size;
  std::vector<std::string> shard_names;              // distinct file names
  std::map<std::string, size_t, std::less<>> owner;  // tensor -> index into shard_names
  mutable std::mutex mutex;
  mutable std::vector<std::unique_ptr<SafetensorsFile>> shards;  // null until loaded

  [[noreturn]] void fail(const std::string& what) const {
    throw FormatError(detail::concat(index_path.string(), ": ", what));
  }

  const SafetensorsFile& shard(size_t i) const {
    std::lock_guard<std::mutex> lock(mutex);
    if (!shards[i]) {
      auto file = std::make_unique<SafetensorsFile>(
          SafetensorsFile::open(index_path.parent_path() / shard_names[i]));
      for (const auto& name : file->names()) {
        const auto it = owner.find(name);
        if (it == owner.end()) {
          fail(detail::concat("shard ", shard_names[i], " holds tensor '", name,
                              "' which the index does not list"));
        }
        if (it->second != i) {
          fail(detail::concat("tensor '", name, "' is in shard ", shard_names[i],
                              " but the index assigns it to ", shard_names[it->second]));
        }
      }
      for (const auto& [name, index] : owner) {
        if (index == i && !file->contains(name)) {
          fail(detail::concat("the index puts tensor '", name, "' in shard ", shard_names[i],
                              ", which does not hold it"));
        }
      }
      shards[i] = std::move(file);
    }
    return *shards[i];
  }
};

namespace {
bool plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}
}  // namespace

ShardedSafetensors::ShardedSafetensors() : impl_(std::make_unique<Impl>()) {}
ShardedSafetensors::~ShardedSafetensors() = default;
ShardedSafetensors::ShardedSafetensors(ShardedSafetensors&&) noexcept = default;
ShardedSafetensors& ShardedSafetensors::operator=(ShardedSafetensors&&) noexcept = default;

ShardedSafetensors ShardedSafetensors::open(const fs::path& path) {
  ShardedSafetensors result;
  Impl& impl = *result.impl_;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    const fs::path index = path / "model.safetensors.index.json";
    const fs::path single = path / "model.safetensors";
    if (fs::exists(index, ec)) {
      impl.index_path = index;
    } else if (fs::exists(single, ec)) {
      // One shard and no index: the "index" is synthesised from the file itself.
      impl.index_path = single;
      impl.shard_names.push_back(single.filename().string());
      auto file = std::make_unique<SafetensorsFile>(SafetensorsFile::open(single));
      for (const auto& name : file->names()) impl.owner.emplace(name, 0);
      impl.shards.push_back(std::move(file));
      return result;
    } else {
      throw FormatError(detail::concat(path.string(), ": neither model.safetensors.index.json ",
                                       "nor model.safetensors in this folder"));
    }
  } else {
    impl.index_path = path;
  }

  const MmapFile file = MmapFile::open(impl.index_path);
  std::string error;
  const auto parsed = parse_json_strict(
      std::string_view(reinterpret_cast<const char*>(file.data()), file.size()), &error);
  if (!parsed) impl.fail("not valid JSON: " + error);
  if (!parsed->is_object()) impl.fail("the index is not a JSON object");
  if (const auto meta = parsed->find("metadata"); meta != parsed->end() && !meta->is_null()) {
    if (!meta->is_object()) impl.fail("'metadata' is not an object");
    if (const auto total = meta->find("total_size"); total != meta->end()) {
      if (!total->is_number_integer() || total->get<int64_t>() < 0) {
        impl.fail("'metadata.total_size' is not a non-negative integer");
      }
      impl.total_size = total->get<uint64_t>();
    }
  }
  const auto map = parsed->find("weight_map");
  if (map == parsed->end() || !map->is_object())
    impl.fail("'weight_map' is missing or not an object");

  std::map<std::string, size_t> shard_index;
  for (const auto& [tensor, shard] : map->items()) {
    if (!shard.is_string()) impl.fail("weight_map entry '" + tensor + "' is not a file name");
    const auto& name = shard.get_ref<const std::string&>();
    if (!plain_file_name(name)) {
      impl.fail("weight_map entry '" + tensor + "' names '" + name +
                "', which is not a plain file name in the index's folder");
    }
    auto [it, inserted] = shard_index.emplace(name, impl.shard_names.size());
    if (inserted) {
      const fs::path shard_path = impl.index_path.parent_path() / name;
      if (!fs::is_regular_file(shard_path, ec)) {
        impl.fail("shard " + name + " (holding tensor '" + tensor + "') is missing");
      }
      impl.shard_names.push_back(name);
    }
    impl.owner.emplace(tensor, it->second);  // duplicates were rejected by the strict parser
  }
  impl.shards.resize(impl.shard_names.size());
  return result;
}

std::vector<std::string> ShardedSafetensors::names() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : impl_->owner) out.push_back(name);
  return out;
}

bool ShardedSafetensors::contains(std::string_view name) const {
  return impl_->owner.find(name) != impl_->owner.end();
}

fs::path ShardedSafetensors::shard_of(std::string_view name) const {
  const auto it = impl_->owner.find(name);
  if (it == impl_->owner.end()) impl_->fail(detail::concat("no tensor '", name, "'"));
  return impl_->index_path.parent_path() / impl_->shard_names[it->second];
}

TensorView ShardedSafetensors::tensor(std::string_view name) const {
  const auto it = impl_->owner.find(name);
  if (it == impl_->owner.end()) impl_->fail(detail::concat("no tensor '", name, "'"));
  return impl_->shard(it->second).tensor(name);
}

void ShardedSafetensors::load_all() const {
  for (size_t i = 0; i < impl_->shard_names.size(); ++i) (void)impl_->shard(i);
}

std::vector<fs::path> ShardedSafetensors::shard_files() const {
  std::vector<fs::path> out;
  for (const auto& name : impl_->shard_names) out.push_back(impl_->index_path.parent_path() / name);
  return out;
}

size_t ShardedSafetensors::loaded_shards() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  size_t n = 0;
  for (const auto& s : impl_->shards) n += s != nullptr;
  return n;
}

std::optional<uint64_t> ShardedSafetensors::total_size() const { return impl_->total_size; }

const fs::path& ShardedSafetensors::index_path() const { return impl_->index_path; }

}  // namespace seller::io
