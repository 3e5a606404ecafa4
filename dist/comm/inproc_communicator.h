// In-process backend: N ranks as N threads of one process, for unit tests of everything above
// the communicator (TP/EP/DP layers, watchdog) without MPI or GPUs.
//
// Each communicator runs its operations on its own worker thread in issue order, so async
// handles behave like NCCL's: the result is there only after Work::wait(), and a forgotten wait()
// shows up as a wrong result instead of being hidden. Reductions combine the ranks' tensors in
// rank order (((r0 + r1) + r2) + ...), so every rank gets bit-identical results and a
// single-process oracle that adds in the same order matches exactly. Sends are buffered (a copy
// is queued for the peer), so send-then-recv on both sides does not deadlock.
//
// Every collective checks that all ranks issued the same operation with compatible tensors and
// otherwise fails on every rank with a message naming the ranks, the group and the operations.
// abort() (any rank, any thread) makes all pending and later operations of the whole world throw.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "dist/comm/communicator.h"

namespace seller::dist {

// n communicators named "world" over the same n ranks; communicator i is rank i. Drive each from
// its own thread (run_ranks does that).
std::vector<CommunicatorPtr> make_inproc_world(int n);

// Runs body(world communicator of rank r) on n threads and joins them. The first exception any
// rank throws aborts the world (so the others do not hang in a collective) and is rethrown here.
void run_ranks(int n, const std::function<void(Communicator&)>& body);
// Same, handing the body the shared pointer (for make_groups and layers that keep the group).
void run_world(int n, const std::function<void(const CommunicatorPtr&)>& body);

}  // namespace seller::dist
