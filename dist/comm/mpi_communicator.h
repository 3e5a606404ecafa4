// MPI backend: CPU tensors through OpenMPI's non-blocking collectives (MPI_Iallreduce, ...), so
// async handles are MPI requests. Built only when MPI was found (SELLER_HAVE_MPI).
//
// Invariants and choices:
//  - CUDA tensors are refused ("backend mpi does not support all_reduce of cuda tensors"): the
//    NCCL backend owns the GPU.
//  - MPI is initialised with MPI_THREAD_MULTIPLE when the library offers it; otherwise every MPI
//    call of seller is serialised through one mutex (waits poll MPI_Test so they do not hold it).
//  - Results that need a step after MPI completes (kAvg's division; bf16/fp16 reductions, done in
//    fp32 because MPI has no such types) are finished by the Work's wait()/is_completed() that
//    observes completion: read results only after one of them said so.
//  - abort() calls MPI_Abort on the communicator: MPI cannot cancel a collective, and a job whose
//    rank hangs has to die as a whole.
#pragma once

#include <memory>
#include <string>

#include <mpi.h>

#include "dist/comm/communicator.h"

namespace seller::dist {

// Initialises MPI (MPI_Init_thread, MPI_THREAD_MULTIPLE requested) unless it already is, and
// finalises it at exit when it was initialised here. Safe to call more than once.
void mpi_ensure_initialized();
// The thread level MPI granted (MPI_THREAD_SINGLE..MPI_THREAD_MULTIPLE).
int mpi_thread_level();

// The world communicator over MPI_COMM_WORLD (a duplicate, so seller's messages never match a
// user's), named "world". Initialises MPI if needed.
CommunicatorPtr make_mpi_world();

// Wraps a communicator; takes ownership (MPI_Comm_free in the destructor) when `owned`.
CommunicatorPtr make_mpi_communicator(MPI_Comm comm, std::string name, bool owned);

}  // namespace seller::dist
