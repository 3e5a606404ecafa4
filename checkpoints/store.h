// The checkpoint folder of a run (<run_dir>/checkpoints/) and its commit protocol:
//
//   1. rank 0 picks `step-000001234.tmp-<random>/` and every rank learns it (hooks.broadcast);
//   2. each rank writes its chunk file there (fsynced, renamed into place inside the folder);
//   3. the ranks' chunk entries are gathered at rank 0 (hooks.gather) — barrier semantics;
//   4. rank 0 writes manifest.json (fsynced), fsyncs the folder, renames it to `step-000001234/`
//      and fsyncs the parent;
//   5. rank 0 writes the COMMITTED marker (fsynced): from here on the checkpoint counts;
//   6. rank 0 updates `latest` (an atomically replaced one-line file naming the folder);
//   7. hooks.barrier, then rank 0 deletes committed checkpoints beyond the newest `keep` and
//      leftover temporaries of earlier, crashed saves.
// Invariants: a folder without COMMITTED is never resumed from and may be deleted; a committed
// folder is never written again (saving a step that exists moves the old folder to
// `step-N.old-<random>` and deletes it only after the new one is committed) and is deleted only
// after a newer one is committed (keep >= 2,
// so a checkpoint that turns out corrupt still has a predecessor). Resume scans the folders
// newest first (`latest` is a hint for people and tools: a crash between 5 and 6 leaves it one
// behind) and skips, with a warning naming the file, any that is incomplete or fails its checks.
// Torch-free; the hooks default to one process.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "checkpoints/chunk_io.h"
#include "checkpoints/manifest.h"

namespace seller::ckpt {

// Collective steps of a multi-rank save; the defaults serve one process. dist/ supplies them
// from its Communicator (rank 0 is the root of broadcast and gather).
struct CommitHooks {
  std::function<std::string(const std::string&)> broadcast;  // rank 0's value on every rank
  std::function<std::vector<std::string>(const std::string&)> gather;  // all values, at rank 0
  std::function<void()> barrier;
};

struct StoreOptions {
  int64_t keep = 2;  // committed checkpoints kept (>= 2 is enforced by the config)
  int64_t rank = 0;
  Layout layout;
  CommitHooks hooks;
};

struct SaveRequest {
  int64_t step = 0;
  std::string config_yaml;
  // Non-empty: the manifest's config hash covers this text instead of config_yaml (the trainer
  // hashes only what determines the run's arithmetic, so that device, rank count and
  // checkpoint settings may change on resume; trainer/train/checkpointer.h).
  std::string hash_yaml;
  nlohmann::json train_state = nlohmann::json::object();
  std::vector<ChunkData> chunks;  // this rank's
};

struct CommittedCheckpoint {
  int64_t step = 0;
  std::filesystem::path dir;
};

class CheckpointStore {
 public:
  CheckpointStore(std::filesystem::path root, StoreOptions options);

  const std::filesystem::path& root() const { return root_; }
  static std::string step_name(int64_t step);  // "step-000001234"
  // Runs the commit protocol above; returns the committed folder. On an error the temporary
  // folder is removed and nothing committed is touched.
  std::filesystem::path save(const SaveRequest& request);

  // Committed checkpoints (folders step-N with a COMMITTED marker), oldest first.
  std::vector<CommittedCheckpoint> committed() const;
  // Newest checkpoint that passes verify (checksums when `checksums`); each one skipped is
  // reported on `warn` with the file and the reason. nullopt when none is usable.
  std::optional<CommittedCheckpoint> find_resumable(std::ostream* warn, bool checksums) const;
  // Deletes committed checkpoints beyond the newest `keep` and stale temporaries.
  void prune() const;

 private:
  std::filesystem::path root_;
  StoreOptions options_;
};

// Parses "step-000001234" (no suffix); nullopt for anything else.
std::optional<int64_t> parse_step_name(const std::string& name);

}  // namespace seller::ckpt
