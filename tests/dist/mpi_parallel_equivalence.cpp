// Parallel-layer equivalence over the MPI backend, run under `mpirun -np 2` and `-np 4` (ctest:
// mpi_parallel_equivalence_np2/np4): the TP decoder, the EP MoE layer (incl. a rank with zero
// tokens and experts that get none), data parallel + ZeRO-1 AdamW over several steps, and at 4
// ranks the combined dp2 x tp2 and dp2 x ep2 layouts, each against the single-process run that
// every rank computes itself from the same seeds (parallel_cases.h, parallel_training_cases.h).
// Rank 0 prints the largest difference measured per quantity ("[ MAXDIFF  ]" lines).
//
// Tests use EXPECT only, and an exception on one rank aborts the MPI job: an early return on one
// rank would leave the others waiting in the next collective until ctest's timeout.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <exception>
#include <functional>
#include <string>

#include "dist/comm/mpi_communicator.h"
#include "tests/dist/parallel_cases.h"
#include "tests/dist/parallel_training_cases.h"

namespace seller::dist {
namespace {

// Asserted bound for every quantity (fp32, CPU), as in the in-process tests.
constexpr double kTol = 1e-5;

CommunicatorPtr g_world;
const torch::Device kCpu(torch::kCPU);

// Runs one rank's body; a throw on any rank kills the whole job instead of hanging it.
void guarded(const std::string& label, const std::function<void()>& body) {
  try {
    body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "[rank %d] %s threw: %s\n", g_world->rank(), label.c_str(), e.what());
    std::fflush(stderr);
    g_world->abort(label + ": " + e.what());
  }
}

bool four_ranks() { return g_world->size() == 4; }

// Ranks other than 0 drop gtest's printer (one report is enough) but still print their own
// failures, which are otherwise only visible as a nonzero exit status.
class FailurePrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit FailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const ::testing::TestPartResult& r) override {
    if (!r.failed()) return;
    std::fprintf(stderr, "[rank %d] %s:%d: %s\n", rank_, r.file_name() ? r.file_name() : "?",
                 r.line_number(), r.summary());
  }

 private:
  int rank_;
};

TEST(MpiParallel, TpDecoderLogitsLossAndGradientsEqualFullDecoder) {
  for (bool variant : {false, true}) {
    const std::string label = std::string("tp") + std::to_string(g_world->size()) + " decoder " +
                              (variant ? "untied+biases+qk-norm+eager" : "tied+GQA+padding+sdpa");
    SCOPED_TRACE(label);
    guarded(label, [&] {
      const auto ref = cases::tp_reference(variant, kCpu);
      cases::DiffLog log(kTol);
      cases::tp_case(g_world, ref, kCpu, log);
      log.report(*g_world, kCpu, label);
    });
  }
}

TEST(MpiParallel, EpMoeEqualsSingleProcessOnTheUnionOfTokens) {
  const int ep = g_world->size();
  for (const auto& c : cases::ep_cases()) {
    const std::string label = "ep" + std::to_string(ep) + " moe " + c.name;
    SCOPED_TRACE(label);
    guarded(label, [&] {
      const auto ref = cases::ep_reference(c, ep, kCpu);
      if (c.name == "tight_capacity") {
        EXPECT_GT(ref.stats.dropped, 0) << "the case must drop";
      }
      if (c.starve_last_rank) {
        for (int64_t g = cases::kMoeExperts - cases::kMoeExperts / ep; g < cases::kMoeExperts; ++g)
          EXPECT_EQ(ref.stats.tokens_per_expert[g], 0) << "expert " << g << " must get no token";
      }
      cases::DiffLog log(kTol);
      cases::ep_case(g_world, c, ref, kCpu, log);
      log.report(*g_world, kCpu, label);
    });
  }
}

TEST(MpiParallel, DataParallelZeroAdamWEqualsSingleProcessOverSteps) {
  const std::string label = "dp" + std::to_string(g_world->size()) + " decoder + ZeRO-1 AdamW";
  guarded(label, [&] {
    const auto ref = cases::train_reference(/*tp_layout=*/false, kCpu);
    cases::DiffLog log(kTol);
    cases::dp_zero_case(g_world, ref, kCpu, log);
    log.report(*g_world, kCpu, label);
  });
}

TEST(MpiParallel, Dp2Tp2DecoderZeroEqualsSingleProcess) {
  if (!four_ranks()) GTEST_SKIP() << "dp2 x tp2 needs 4 ranks, have " << g_world->size();
  const std::string label = "dp2xtp2 decoder + ZeRO-1 over edp";
  guarded(label, [&] {
    const auto ref = cases::train_reference(/*tp_layout=*/true, kCpu);
    cases::DiffLog log(kTol);
    cases::dp2_tp2_case(g_world, ref, kCpu, log);
    log.report(*g_world, kCpu, label);
  });
}

TEST(MpiParallel, Dp2Ep2MoeWithZeroTokenRankEqualsSingleProcess) {
  if (!four_ranks()) GTEST_SKIP() << "dp2 x ep2 needs 4 ranks, have " << g_world->size();
  const std::string label = "dp2xep2 moe (rank 2 without tokens)";
  guarded(label, [&] {
    const auto ref = cases::moe_train_reference(kCpu);
    cases::DiffLog log(kTol);
    cases::dp2_ep2_case(g_world, ref, kCpu, log);
    log.report(*g_world, kCpu, label);
  });
}

}  // namespace
}  // namespace seller::dist

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Ranks share the machine's cores (--oversubscribe); one thread each keeps them from fighting.
  torch::set_num_threads(1);
  seller::dist::g_world = seller::dist::make_mpi_world();
  const int rank = seller::dist::g_world->rank();
  if (rank != 0) {
    // One report is enough; other ranks' failures still fail mpirun's exit status.
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new seller::dist::FailurePrinter(rank));
  }
  const int rc = RUN_ALL_TESTS();
  if (rc != 0) std::fprintf(stderr, "[rank %d] some tests FAILED\n", rank);
  seller::dist::g_world.reset();
  return rc;
}
