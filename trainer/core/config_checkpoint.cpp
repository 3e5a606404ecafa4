// Field list and value checks of the `checkpoint:` section (config_checkpoint.h).
#include "trainer/core/config_checkpoint.h"

namespace seller::core {

void CheckpointConfig::visit(FieldVisitor& v) {
  v.field("every_steps", every_steps,
          "optimizer steps between checkpoints (0 = only at the end and on SIGTERM/SIGUSR1)");
  v.field("keep", keep, "newest committed checkpoints kept in <run_dir>/checkpoints (>= 2)");
  v.field("async", async, "write checkpoints in a background thread while training goes on");
  v.field("resume", resume,
          "auto: resume from the newest good checkpoint of the run folder; never: start fresh "
          "(existing checkpoints are kept until newer ones commit); or a checkpoint folder");
  v.field("save_at_end", save_at_end, "save a checkpoint after the last step");
  v.field("signal_exit_code", signal_exit_code,
          "exit status after SIGTERM/SIGUSR1 made the run save and stop (for Slurm RequeueExit)");
  v.field("verify_on_resume", verify_on_resume,
          "check every chunk's crc32 before resuming (a bad checkpoint is skipped)");
}

void CheckpointConfig::validate(Validator& check) const {
  check.require(every_steps >= 0, "every_steps", every_steps, "must be >= 0 (0 = end only)");
  check.require(keep >= 2, "keep", keep,
                "must be >= 2 (a corrupt newest checkpoint needs a predecessor)");
  check.require(!resume.empty(), "resume", resume, "must be auto, never or a checkpoint folder");
  check.require(signal_exit_code >= 0 && signal_exit_code <= 255, "signal_exit_code",
                signal_exit_code, "must be in [0, 255]");
}

}  // namespace seller::core
