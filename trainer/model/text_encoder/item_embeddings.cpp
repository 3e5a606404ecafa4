// Item text embeddings and their cache. The cache is a section file with two sections:
// "meta" (u8, a JSON object with the key and the shape) and "embeddings" (f32, row-major
// [num_items, dim]). Reading verifies every section's crc32, so a flipped byte anywhere is a
// FormatError that turns into a warning and a recomputation.
#include "trainer/model/text_encoder/item_embeddings.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "trainer/core/error.h"
#include "trainer/data/shard/section_file.h"
#include "trainer/data/shard/section_writer.h"

namespace seller::model {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr char kKind[] = "item_text_embeddings";

std::string hex64(uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

uint64_t fnv1a(std::string_view s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

json cache_meta(const data::Dataset& ds, const SentenceEncoder& encoder) {
  return json{{"manifest_hash", hex64(fnv1a(ds.manifest_json()))},
              {"encoder", encoder.name()},
              {"encoder_fingerprint", encoder.fingerprint()},
              {"recipe", kItemTextRecipe},
              {"num_items", ds.num_items()},
              {"dim", encoder.dim()}};
}

// The cached tensor, or an undefined one (with a warning on log) when the file is unusable.
torch::Tensor read_cache(const fs::path& path, const json& meta, std::ostream* log) {
  try {
    data::shard::OpenOptions options;
    options.expected_kind = kKind;
    const auto file = data::shard::SectionFile::open(path, options);
    const json stored = json::parse(file.text("meta"));
    if (stored != meta) file.fail("cache is for " + stored.dump() + ", expected " + meta.dump());
    const auto values = file.get<float>("embeddings");
    const int64_t rows = meta["num_items"].get<int64_t>(), dim = meta["dim"].get<int64_t>();
    if (static_cast<int64_t>(values.size()) != rows * dim)
      file.fail("embeddings section has " + std::to_string(values.size()) + " values, expected " +
                std::to_string(rows * dim));
    // Copied out: the mapping closes when `file` goes out of scope.
    return torch::from_blob(const_cast<float*>(values.data()), {rows, dim}, torch::kFloat32)
        .clone();
  } catch (const std::exception& e) {  // FormatError, DataError, or a JSON parse error
    if (log)
      *log << "warning: ignoring item embedding cache " << path.string() << ": " << e.what()
           << "; recomputing\n";
    return {};
  }
}

}  // namespace

std::string item_text(const data::Dataset& ds, uint32_t item) {
  std::string text(ds.item_title(item));
  const std::string_view description = ds.item_description(item);
  if (!description.empty()) {
    if (!text.empty()) text += ". ";
    text += description;
  }
  if (text.empty()) text = std::string(ds.item_id(item));
  return text;
}

fs::path item_embeddings_cache_path(const data::Dataset& ds, const SentenceEncoder& encoder,
                                    const fs::path& cache_dir) {
  const std::string key = hex64(fnv1a(cache_meta(ds, encoder).dump()));
  return cache_dir / (std::string(kKind) + "-" + key + ".sec");
}

torch::Tensor item_text_embeddings(const data::Dataset& ds, SentenceEncoder& encoder,
                                   const fs::path& cache_dir, std::ostream* log) {
  const json meta = cache_meta(ds, encoder);
  const fs::path path = item_embeddings_cache_path(ds, encoder, cache_dir);
  if (fs::exists(path)) {
    auto cached = read_cache(path, meta, log);
    if (cached.defined()) {
      if (log)
        *log << "item text embeddings: read " << ds.num_items() << " x " << encoder.dim()
             << " from cache " << path.string() << "\n";
      return cached;
    }
  }
  std::vector<std::string> texts;
  texts.reserve(ds.num_items());
  for (uint32_t i = 0; i < ds.num_items(); ++i) texts.push_back(item_text(ds, i));
  torch::Tensor emb = encoder.encode(texts).contiguous();
  SELLER_CHECK(emb.size(0) == static_cast<int64_t>(ds.num_items()) && emb.size(1) == encoder.dim(),
               "encoder returned ", emb.sizes());
  fs::create_directories(cache_dir);
  data::shard::SectionWriter writer(path, kKind, 2);
  const std::string meta_text = meta.dump();
  writer.section<uint8_t>(
      "meta", std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(meta_text.data()),
                                       meta_text.size()));
  writer.section<float>("embeddings", std::span<const float>(emb.data_ptr<float>(),
                                                             static_cast<size_t>(emb.numel())));
  writer.finish();
  if (log)
    *log << "item text embeddings: encoded " << ds.num_items() << " items with " << encoder.name()
         << ", cached in " << path.string() << "\n";
  return emb;
}

}  // namespace seller::model
