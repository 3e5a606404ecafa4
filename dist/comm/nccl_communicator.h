// NCCL backend: CUDA tensors, collectives on a per-communicator NCCL stream ordered after the
// caller's current CUDA stream. Built only when NCCL was found (SELLER_HAVE_NCCL).
//
// Stream semantics (as in PyTorch's ProcessGroupNCCL): an operation first makes the NCCL stream
// wait for the current stream (so it sees the tensors' latest values), runs there, and records
// an event. async = false makes the current stream wait for that event before returning (no
// host synchronisation); async = true leaves that to Work::wait(), so the caller's later kernels
// overlap the communication. Tensors are marked as used on the NCCL stream (recordStream), so
// freeing them early does not hand their memory to another kernel too soon.
//
// Bootstrap: NCCL needs one ncclUniqueId per communicator, created on rank 0 and handed to the
// others. A BootstrapFn does that hand-over: every rank calls bootstrap(key, value) with the same
// key; rank 0 passes the id's bytes as value, the others pass "" and all get rank 0's bytes back.
// Implementations: an MPI broadcast (mpi_bootstrap), the TCP store of dist/rendezvous, or
// MemoryBootstrap for threads of one process (tests). split() uses ncclCommSplit and needs none.
//
// abort() (any thread) calls ncclCommAbort on this rank's world communicator and on every
// communicator split from it, so a rank blocked in any of its groups is released; later
// operations throw. Aborted communicators skip ncclCommDestroy.
//
// Threads of one process (one per GPU): a rank must not touch another rank's GPU memory. Each
// operation makes the caller's current stream wait for the collective, and with the default
// (legacy) stream that stream is shared by every thread using the device, so a copy from
// another rank's GPU queues behind that rank's unfinished collective; if the copying rank has
// not yet joined that collective, both wait forever (tests/gpu/nccl_threads.h).
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "dist/comm/communicator.h"

namespace seller::dist {

using BootstrapFn =
    std::function<std::string(const std::string& key, const std::string& value_if_root)>;

// The world communicator: rank `rank` of `size`, on CUDA device `device` (-1: the current one).
// Collective over all ranks (each calls it once, from the thread that will drive it).
CommunicatorPtr make_nccl_world(int rank, int size, const BootstrapFn& bootstrap, int device = -1,
                                const std::string& name = "world");

// A bootstrap for ranks that are threads of one process: set/get through a shared map.
class MemoryBootstrap {
 public:
  BootstrapFn fn();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::string> values_;
};

#if SELLER_HAVE_MPI
// Rank 0 of MPI_COMM_WORLD broadcasts its value; collective over MPI_COMM_WORLD.
BootstrapFn mpi_bootstrap();
#endif

}  // namespace seller::dist
