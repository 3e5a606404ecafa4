// Item text embeddings of the semantic path: every item's text (item_text) encoded once by a
// SentenceEncoder and cached as a section file (kind "item_text_embeddings") under a cache folder.
// Invariants:
//   - the cache file's name carries a key of (dataset manifest, encoder fingerprint, text recipe),
//     and the file repeats the key inside, so a cache is only ever reused for the same inputs;
//   - a cache that fails its checksums, has another key or another shape is reported on the log
//     and rewritten; the file is written atomically (SectionWriter), so a crash leaves no
//     half-written cache under the final name;
//   - values read back are bit-identical to the values written.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>

#include "trainer/data/dataset.h"
#include "trainer/model/text_encoder/sentence_encoder.h"

namespace seller::model {

// Versioned name of the text recipe below; part of the cache key.
inline constexpr char kItemTextRecipe[] = "title. description|item_id:v1";

// The text of item i as the semantic path reads it: title, then ". " and the description when
// present (empty -> the item id).
std::string item_text(const data::Dataset& ds, uint32_t item);

// The cache file item_text_embeddings() uses for this dataset and encoder.
std::filesystem::path item_embeddings_cache_path(const data::Dataset& ds,
                                                 const SentenceEncoder& encoder,
                                                 const std::filesystem::path& cache_dir);

// [num_items, dim] float32: embeddings of every item's text, computed once and cached under
// cache_dir; a valid cache is read back instead of re-encoding. log (may be null) gets one line
// saying whether the cache was read or written, and warnings about discarded caches.
torch::Tensor item_text_embeddings(const data::Dataset& ds, SentenceEncoder& encoder,
                                   const std::filesystem::path& cache_dir, std::ostream* log);

}  // namespace seller::model
