// `seller generate --run RUN_DIR`: explanations of a trained SELLER run for every pair of a
// split, with the history control chosen (real | shuffled | none), as prediction JSONL
// {"id", "text", "user", "item", "rating", "feature", "history"} and, optionally, the matching
// reference JSONL (the real reviews) for `seller eval --pred P --ref R`.
#pragma once

#include <cstdint>
#include <string>

#include "launch/cli_config.h"

namespace seller::launch {

struct GenerateRunArgs {
  std::string run_dir;
  std::string output;          // predictions JSONL
  std::string refs;            // optional references JSONL
  std::string split = "test";  // test | valid
  std::string history = "real";
  int64_t limit = 0;    // > 0: only the first N pairs
  int64_t samples = 3;  // explanations printed to stdout
};

// cfg: the generate section the user resolved (--config/--set/--max-new-tokens ...) overrides
// the run's own generate section; everything else comes from the run's config.yaml.
int run_generate_for_run(const GenerateRunArgs& args, const core::Config& user_cfg,
                         bool user_set_generate);

}  // namespace seller::launch
