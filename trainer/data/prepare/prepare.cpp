// prepare_dataset: the two passes of prepare.h glued together, inside a temporary folder that is
// renamed into place only when everything (shards, tables, manifest) has been written.
#include "trainer/data/prepare/prepare.h"

#include <chrono>
#include <cmath>

#include "trainer/core/error.h"
#include "trainer/data/prepare/dataset_writer.h"
#include "trainer/data/prepare/external_sort.h"
#include "trainer/data/prepare/ingest.h"
#include "trainer/data/prepare/scratch_texts.h"
#include "trainer/data/prepare/user_history.h"
#include "trainer/data/shard/dataset_layout.h"
#include "trainer/io/atomic_file.h"
#include "trainer/io/mmap_file.h"

namespace seller::data {
namespace fs = std::filesystem;

const char* split_name(PrepareOptions::Split split) {
  return split == PrepareOptions::Split::kLeaveOneOut ? "leave_one_out" : "temporal";
}

void validate_prepare_options(const PrepareOptions& o) {
  auto fraction_ok = [](double f) { return std::isfinite(f) && f >= 0.0 && f < 1.0; };
  SELLER_THROW_IF_NOT(fraction_ok(o.valid_fraction), ConfigError,
                      "valid_fraction must be in [0, 1), got ", o.valid_fraction);
  SELLER_THROW_IF_NOT(fraction_ok(o.test_fraction), ConfigError,
                      "test_fraction must be in [0, 1), got ", o.test_fraction);
  SELLER_THROW_IF_NOT(o.valid_fraction + o.test_fraction < 1.0, ConfigError,
                      "valid_fraction + test_fraction must be below 1 (no train left), got ",
                      o.valid_fraction, " + ", o.test_fraction);
  SELLER_THROW_IF_NOT(o.sort_memory_bytes >= 1024, ConfigError,
                      "sort_memory_bytes must be at least 1024, got ", o.sort_memory_bytes);
  SELLER_THROW_IF_NOT(o.shard_bytes >= 1, ConfigError, "shard_bytes must be positive");
}

namespace {
// Refuses to replace a folder that is not a dataset: replacing is only for re-running prepare.
void check_output_folder(const fs::path& out_dir) {
  std::error_code ec;
  auto status = fs::symlink_status(out_dir, ec);
  if (!fs::exists(status)) return;
  if (!fs::is_directory(status)) {
    throw DataError(detail::concat("output ", out_dir.string(),
                                   " exists and is not a folder; refusing to replace it"));
  }
  if (fs::is_empty(out_dir, ec)) return;
  if (!fs::exists(out_dir / layout::kManifestFile, ec)) {
    throw DataError(detail::concat("output folder ", out_dir.string(),
                                   " exists and is not a seller dataset (no ",
                                   layout::kManifestFile, "); refusing to replace it"));
  }
}
}  // namespace

PrepareStats prepare_dataset(const RecordSource& source, const PrepareOptions& options,
                             const fs::path& out_dir) {
  using prepare::SpillRecord;
  const auto start = std::chrono::steady_clock::now();
  validate_prepare_options(options);
  SELLER_THROW_IF_NOT(!out_dir.empty(), ConfigError, "no output folder given");
  check_output_folder(out_dir);

  io::AtomicDir dir(out_dir);  // destroyed last: removes everything below on failure
  PrepareStats stats;
  prepare::ExternalSorter sorter(dir.path(), options.sort_memory_bytes);
  prepare::Ingestor ingest(dir.path(), options, sorter);
  source([&](const Record& r, const SourcePosition& p) { ingest.add(r, p); });
  ingest.finish();
  stats.input_records = ingest.records();
  stats.records_without_timestamp = ingest.records_without_timestamp();
  if (stats.input_records == 0) {
    throw DataError(detail::concat(
        "no records in the input", options.source_files.empty() ? "" : " (",
        options.source_files.empty() ? "" : options.source_files.front(),
        options.source_files.size() > 1 ? ", ..." : "", options.source_files.empty() ? "" : ")"));
  }
  sorter.finish();
  stats.sort_runs = sorter.runs();
  stats.merge_passes = sorter.merge_passes();

  {
    const prepare::ScratchTexts texts(ingest.texts_path());
    const io::MmapFile item_texts = io::MmapFile::open(ingest.item_texts_path());
    prepare::UserHistory history(options, ingest.items().size(), texts);
    prepare::DatasetWriter writer(dir.path(), options, texts, ingest.items().size());

    auto finish_user = [&] {
      history.finish();
      if (history.records().size() < options.min_user_interactions) {
        ++stats.users_dropped;
        stats.interactions_dropped += history.records().size();
        return;
      }
      writer.add_user(history.user(), history.records(), history.tags());
    };
    const SpillRecord* r = sorter.next();
    while (r != nullptr) {
      history.begin(r->user);
      const uint32_t user = r->user;
      for (; r != nullptr && r->user == user; r = sorter.next()) history.add(*r, stats);
      finish_user();
    }
    if (stats.users_dropped == ingest.users().size()) {
      throw DataError(detail::concat("no users left: every one of the ", ingest.users().size(),
                                     " users has fewer than min_user_interactions=",
                                     options.min_user_interactions, " interactions"));
    }
    writer.finish(ingest.users(), ingest.items(), ingest.item_meta(), item_texts, stats);
  }
  sorter.remove_scratch();
  std::error_code ec;
  fs::remove(ingest.texts_path(), ec);
  fs::remove(ingest.item_texts_path(), ec);
  dir.commit();
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace seller::data
