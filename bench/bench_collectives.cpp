// Collective bandwidth of seller's communicators, nccl-tests conventions: for each message size
// (bytes of the buffer nccl-tests calls "size": the all_reduce buffer, the gathered output of
// all_gather, the input of reduce_scatter, a rank's total all_to_all input) the time per
// operation is the slowest rank's mean over --iters back-to-back calls after --warmup; algbw =
// size / time, busbw = algbw * factor with factor 2(n-1)/n for all_reduce and (n-1)/n for
// all_gather, reduce_scatter and all_to_all. Prints figures, never passes or fails on them.
//
//   NCCL, one thread per GPU:      bench_collectives --backend nccl --threads 4
//   NCCL or MPI, one process/rank: mpirun -np 4 bench_collectives --backend nccl|mpi
// Options: --min 1K --max 1G (sizes double), --iters 20, --warmup 5, --ops all_reduce,...
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <torch/torch.h>

#include "bench/bench_machine.h"
#include "dist/comm/communicator.h"
#include "trainer/core/error.h"
#if SELLER_HAVE_MPI
#include "dist/comm/mpi_communicator.h"
#endif
#if SELLER_HAVE_NCCL
#include <c10/cuda/CUDAFunctions.h>
#include <cuda_runtime.h>

#include "dist/comm/nccl_communicator.h"
#endif

namespace {

using seller::dist::Communicator;
using seller::dist::CommunicatorPtr;
using seller::dist::ReduceOp;

struct Options {
  std::string backend = "nccl";
  int threads = 0;  // > 0: NCCL ranks as threads of this process
  int64_t min_bytes = 1 << 10;
  int64_t max_bytes = int64_t(1) << 30;
  int iters = 20;
  int warmup = 5;
  std::vector<std::string> ops = {"all_reduce", "all_gather", "reduce_scatter", "all_to_all"};
};

int64_t parse_size(const std::string& s) {
  int64_t v = std::stoll(s);
  char unit = s.empty() ? ' ' : s.back();
  if (unit == 'K' || unit == 'k') v <<= 10;
  if (unit == 'M' || unit == 'm') v <<= 20;
  if (unit == 'G' || unit == 'g') v <<= 30;
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--backend")
      o.backend = v;
    else if (k == "--threads")
      o.threads = std::stoi(v);
    else if (k == "--min")
      o.min_bytes = parse_size(v);
    else if (k == "--max")
      o.max_bytes = parse_size(v);
    else if (k == "--iters")
      o.iters = std::stoi(v);
    else if (k == "--warmup")
      o.warmup = std::stoi(v);
    else if (k == "--ops") {
      o.ops.clear();
      std::stringstream ss(v);
      for (std::string op; std::getline(ss, op, ',');) o.ops.push_back(op);
    } else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      std::exit(2);
    }
  }
  return o;
}

double bus_factor(const std::string& op, int n) {
  return op == "all_reduce" ? 2.0 * (n - 1) / n : double(n - 1) / n;
}

// One rank's part of the benchmark; rank 0 prints.
void bench_rank(Communicator& comm, const Options& o, torch::Device device,
                const std::function<void()>& sync) {
  const int n = comm.size();
  auto opts = torch::TensorOptions().dtype(torch::kFloat).device(device);
  if (comm.rank() == 0) {
    std::printf("# machine: %s\n", seller::bench::cpu_model().c_str());
    std::printf("# backend %s, %d ranks, float32, %d iters after %d warm-up\n",
                comm.backend().c_str(), n, o.iters, o.warmup);
    std::printf("%-15s %12s %12s %12s %12s\n", "op", "size(B)", "time(us)", "algbw(GB/s)",
                "busbw(GB/s)");
  }
  for (const auto& op : o.ops) {
    for (int64_t bytes = o.min_bytes; bytes <= o.max_bytes; bytes *= 2) {
      int64_t elems = std::max<int64_t>(bytes / 4 / n * n, n);  // divisible by n
      torch::Tensor big = torch::ones({elems}, opts);
      torch::Tensor small = torch::ones({elems / n}, opts);
      std::vector<int64_t> counts(n, elems / n);
      std::function<void()> run;
      if (op == "all_reduce")
        run = [&] { comm.all_reduce(big, ReduceOp::kSum); };
      else if (op == "all_gather")
        run = [&] { comm.all_gather(small, big); };
      else if (op == "reduce_scatter")
        run = [&] { comm.reduce_scatter(big, small); };
      else if (op == "all_to_all") {
        torch::Tensor out = torch::empty({elems}, opts);
        run = [&, out]() mutable { comm.all_to_all_v(big, counts, out, counts); };
      } else {
        throw seller::ConfigError("bench_collectives: unknown op '" + op + "'");
      }
      for (int i = 0; i < o.warmup; ++i) run();
      sync();
      comm.barrier();
      auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < o.iters; ++i) run();
      sync();
      double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / o.iters;
      torch::Tensor slowest =
          torch::tensor({secs}, torch::TensorOptions().dtype(torch::kDouble)).to(device);
      comm.all_reduce(slowest, ReduceOp::kMax);
      secs = slowest.cpu().item<double>();
      if (comm.rank() == 0) {
        double size = double(elems) * 4;
        double algbw = size / secs / 1e9;
        std::printf("%-15s %12.0f %12.2f %12.3f %12.3f\n", op.c_str(), size, secs * 1e6, algbw,
                    algbw * bus_factor(op, n));
        std::fflush(stdout);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  try {
    if (o.backend == "mpi") {
#if SELLER_HAVE_MPI
      CommunicatorPtr world = seller::dist::make_mpi_world();
      bench_rank(*world, o, torch::kCPU, [] {});
      return 0;
#else
      throw seller::ConfigError("bench_collectives: built without MPI");
#endif
    }
    if (o.backend != "nccl") throw seller::ConfigError("--backend must be nccl or mpi");
#if SELLER_HAVE_NCCL
    if (!torch::cuda::is_available()) {
      std::printf("# no CUDA device: nothing to measure\n");
      return 0;
    }
    auto gpu_bench = [&](int rank, int size, const seller::dist::BootstrapFn& boot) {
      c10::cuda::set_device(static_cast<c10::DeviceIndex>(rank % torch::cuda::device_count()));
      int dev = c10::cuda::current_device();
      if (rank == 0) {
        cudaDeviceProp prop{};
        cudaGetDeviceProperties(&prop, dev);
        std::printf("# gpu: %s x%d\n", prop.name, static_cast<int>(torch::cuda::device_count()));
      }
      auto comm = seller::dist::make_nccl_world(rank, size, boot, dev);
      bench_rank(*comm, o, torch::Device(torch::kCUDA, dev),
                 [dev] { torch::cuda::synchronize(dev); });
    };
    if (o.threads > 0) {
      seller::dist::MemoryBootstrap boot;
      std::vector<std::thread> threads;
      for (int r = 0; r < o.threads; ++r) {
        threads.emplace_back([&, r] {
          try {
            gpu_bench(r, o.threads, boot.fn());
          } catch (const std::exception& e) {
            std::fprintf(stderr, "bench_collectives: rank %d: %s\n", r, e.what());
            std::_Exit(1);  // the other ranks would wait forever in the next collective
          }
        });
      }
      for (auto& t : threads) t.join();
      return 0;
    }
#if SELLER_HAVE_MPI
    seller::dist::mpi_ensure_initialized();
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    gpu_bench(rank, size, seller::dist::mpi_bootstrap());
    return 0;
#else
    throw seller::ConfigError("bench_collectives: without MPI, use --threads N");
#endif
#else
    throw seller::ConfigError("bench_collectives: built without NCCL");
#endif
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_collectives: %s\n", e.what());
    return 1;
  }
}
