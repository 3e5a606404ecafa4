// `checkpoint:` when and how `seller train` (task = seller) saves resumable checkpoints into
// <run_dir>/checkpoints/ and resumes from them (checkpoints/store.h, docs/checkpoints.md).
// Torch-free like every config struct; defaults in the initialisers, fields listed once in
// visit(), constraints in validate(). The section is left out of the config hash of a checkpoint,
// so these keys may change between a run and its resume.
#pragma once

#include <cstdint>
#include <string>

#include "trainer/core/config_schema.h"

namespace seller::core {

struct CheckpointConfig : ConfigSection {
  int64_t every_steps = 0;      // optimizer steps between saves (0 = only at the end / on signal)
  int64_t keep = 2;             // newest committed checkpoints kept (>= 2)
  bool async = true;            // write in a background thread after a host snapshot
  std::string resume = "auto";  // auto | never | a checkpoint folder
  bool save_at_end = true;      // save after the last step
  int64_t signal_exit_code = 143;  // exit status after a SIGTERM/SIGUSR1 save (slurm RequeueExit)
  bool verify_on_resume = true;    // check every chunk's crc32 before resuming from it

  void visit(FieldVisitor& v) override;
  void validate(Validator& check) const override;
};

}  // namespace seller::core
