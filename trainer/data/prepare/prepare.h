// `seller data prepare`'s engine: turns a stream of normalised records (record.h) into a cleaned,
// de-duplicated, chronological, split dataset on disk (layout in docs of dataset.h).
//
// Streaming design, so that peak memory does not grow with the input beyond the id maps:
//   pass 1  interns user and item ids, keeps per-item metadata offsets, appends review texts and
//           item texts to scratch files and 56-byte tuples to an external sort (runs of
//           sort_memory_bytes);
//   merge   streams the tuples by (user, timestamp, input order), user by user: de-duplicates,
//           drops short users, tags splits, remaps to dense ids and writes CSR shards of about
//           shard_bytes, then the item and user tables and manifest.json.
// Everything is built in `<out_dir>.tmp-<pid>` and renamed into place at the end; an exception
// (from the source or from here) leaves neither the output folder nor any scratch file behind.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "trainer/data/record.h"

namespace seller::data {

// Split tag of one interaction (stored as u8 in the shards).
enum class SplitTag : uint8_t { kTrain = 0, kValid = 1, kTest = 2 };

struct PrepareOptions {
  // One review per (user, item) — the first in chronological order — and per (user, timestamp,
  // review text) when the record has both a timestamp and a non-empty review (Amazon 2018 repeats
  // a review under every product variant).
  bool dedup = true;
  // kLeaveOneOut: per user with >= 3 interactions, last = test, second-last = valid; users with
  //   1 or 2 interactions are train only (too short to evaluate, as in SASRec).
  // kTemporal: per user, the last round(n * test_fraction) interactions are test and the
  //   round(n * valid_fraction) before them valid, always leaving >= 1 train interaction.
  enum class Split { kLeaveOneOut, kTemporal } split = Split::kLeaveOneOut;
  double valid_fraction = 0.1, test_fraction = 0.1;
  uint32_t min_user_interactions = 1;         // users with fewer (after dedup) are dropped
  uint64_t sort_memory_bytes = 256ull << 20;  // external-sort run size
  uint64_t shard_bytes = 256ull << 20;        // target size of one interactions shard
  std::string source_format;                  // recorded in the manifest
  std::vector<std::string> source_files;      // recorded in the manifest
};

struct PrepareStats {
  uint64_t input_records = 0;
  uint64_t duplicates_removed = 0;  // = duplicate_user_item + duplicate_user_time_text
  uint64_t duplicate_user_item = 0;
  uint64_t duplicate_user_time_text = 0;
  uint64_t users_dropped = 0;         // fewer than min_user_interactions after dedup
  uint64_t interactions_dropped = 0;  // interactions of the dropped users
  uint64_t records_without_timestamp = 0;
  uint64_t users = 0;
  uint64_t items = 0;
  uint64_t interactions = 0;
  uint64_t train = 0, valid = 0, test = 0;  // interactions per split tag
  uint64_t sort_runs = 0;
  uint64_t merge_passes = 0;  // extra passes when runs exceeded the merge fan-in
  uint64_t shards = 0;
  double seconds = 0;
};

// Calls the sink once per record, in input order.
using RecordSource = std::function<void(const RecordSink&)>;

// Throws ConfigError for impossible options, DataError for bad records (naming file:line), an
// empty input or an output folder that exists and is not a seller dataset; whatever the source
// throws is passed through after cleaning up. An existing dataset at out_dir is replaced only
// when the new one is complete.
PrepareStats prepare_dataset(const RecordSource& source, const PrepareOptions& options,
                             const std::filesystem::path& out_dir);

// Checks options, naming the offending field; prepare_dataset calls it first.
void validate_prepare_options(const PrepareOptions& options);

const char* split_name(PrepareOptions::Split split);

}  // namespace seller::data
