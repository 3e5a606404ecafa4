// Test-only fault injection for the checkpoint writer, driven by the environment variable
// SELLER_FAULT=<fault>[@<save>] (save = the 1-based count of saves in this process; default 1):
//   kill-after-chunk  raise SIGKILL on this process right after its chunk file is written
//                     (a crash in mid-save: data written, no manifest, nothing committed)
//   enospc            the chunk file write fails as if the disk were full (ENOSPC)
//   erofs             the checkpoint folder cannot be created, as on a read-only file system
//                     (EROFS; tests run as root, where chmod does not stop writes)
//   kill-before-commit raise SIGKILL after the manifest is written, before the rename
//   sigusr1-at-step   raise SIGUSR1 in this process after optimizer step <save> (here the number
//                     counts steps, not saves): one rank "receives" the signal Slurm would send,
//                     without a race between the signal and a fast run (fault_step)
// Unset or empty: no fault. An unknown value is a ConfigError, so a typo never passes silently.
// SELLER_FAULT_RANK=<r> limits the fault to the process of rank r (rank from the launcher's
// environment, trainer/io/rank_env.h), e.g. one rank of an mpirun job dying in mid-save.
#pragma once

#include <filesystem>
#include <string>

namespace seller::ckpt {

enum class FaultPoint { kBeforeMkdir, kAfterChunk, kBeforeChunk, kBeforeRename };

// Counts one save of this process (call once per save, before its fault points).
void fault_begin_save();
// Saves counted so far (tests aim a fault at the next one: SELLER_FAULT=enospc@<count+1>).
int fault_saves_so_far();
// Acts on SELLER_FAULT at `point`: may throw DataError naming `path` or kill the process.
void fault_point(FaultPoint point, const std::filesystem::path& path);
// Acts on SELLER_FAULT=sigusr1-at-step@<step> after optimizer step `step` (1-based).
void fault_step(long long step);

}  // namespace seller::ckpt
