// End to end through the `seller` executable: `seller launch` starting ranks that meet through
// the TCP store (`seller rendezvous-check`), a failing rank stopping the others, plain mpirun
// without `seller launch`, and a rank with the wrong token refused and logged by rank 0.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <map>
#include <regex>
#include <set>
#include <string>

#include "tests/support/test_support.h"

namespace {
using seller::testing::run_command;
using seller::testing::seller_binary;

// Lines "rendezvous-check ok: rank r/world ..." in `output`: rank -> blob hash.
std::map<int, std::string> check_lines(const std::string& output, int world) {
  std::map<int, std::string> out;
  const std::regex line("rendezvous-check ok: rank (\\d+)/" + std::to_string(world) +
                        " local \\d+/\\d+ source=(\\w+) master=\\S+ host=\\S+ blob=([0-9a-f]{16})");
  for (std::sregex_iterator it(output.begin(), output.end(), line), end; it != end; ++it)
    out[std::stoi((*it)[1])] = (*it)[3];
  return out;
}

void expect_all_ranks_agree(const std::string& output, int world) {
  const auto lines = check_lines(output, world);
  ASSERT_EQ(lines.size(), static_cast<size_t>(world)) << output;
  std::set<std::string> hashes;
  for (const auto& [rank, hash] : lines) hashes.insert(hash);
  EXPECT_EQ(hashes.size(), 1u) << "ranks saw different blobs:\n" << output;
}

TEST(RendezvousLaunch, LaunchThreeRanksMeetThroughTheStore) {
  const auto r = run_command(seller_binary() + " launch --nproc 3 -- seller rendezvous-check");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_all_ranks_agree(r.output, 3);
  for (int rank = 0; rank < 3; ++rank) {
    const std::string prefix = "[rank " + std::to_string(rank) + "] rendezvous-check ok: rank " +
                               std::to_string(rank) + "/3";
    EXPECT_NE(r.output.find(prefix), std::string::npos) << r.output;
  }
  EXPECT_NE(r.output.find("source=explicit"), std::string::npos);
}

TEST(RendezvousLaunch, FailingRankStopsTheOthersWithItsStatus) {
  const auto start = std::chrono::steady_clock::now();
  const auto r = run_command(
      seller_binary() +
      " launch --nproc 3 --grace 1 -- bash -c 'if [ \"$RANK\" = 1 ]; then echo failing >&2; "
      "exit 7; fi; trap \"\" TERM; echo waiting; sleep 60'");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.exit_code, 7) << r.output;
  EXPECT_NE(r.output.find("[rank 1] failing"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("rank 1 exited with status 7"), std::string::npos) << r.output;
  // The others ignore SIGTERM (trap ""): only the SIGKILL after the 1 s grace ends them.
  EXPECT_LT(took, std::chrono::seconds(20)) << r.output;
}

TEST(RendezvousLaunch, BadArgumentsAreRefused) {
  const auto none = run_command(seller_binary() + " launch --nproc 0 -- true");
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.output.find("--nproc"), std::string::npos) << none.output;
  const auto missing = run_command(seller_binary() + " launch --nproc 2 -- /no/such/program");
  EXPECT_EQ(missing.exit_code, 127) << missing.output;
  EXPECT_NE(missing.output.find("cannot run '/no/such/program'"), std::string::npos);
}

TEST(RendezvousLaunch, CheckWithoutTokenNamesTheVariable) {
  const auto r =
      run_command("env -u SELLER_STORE_TOKEN " + seller_binary() + " rendezvous-check --timeout 5");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("SELLER_STORE_TOKEN"), std::string::npos) << r.output;
}

TEST(RendezvousLaunch, WrongTokenIsRefusedAndLoggedByRankZero) {
  // Rank 0 and rank 1 started by hand with different tokens on one port.
  const std::string port = "29" + std::to_string(100 + (::getpid() % 800));
  seller::testing::TempDir tmp;
  const std::string log = (tmp / "rank0.log").string();
  const std::string common = "WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + port + " ";
  const auto r = run_command("(" + common + "RANK=0 SELLER_STORE_TOKEN=right " + seller_binary() +
                             " rendezvous-check --timeout 4 > " + log + " 2>&1; echo rank0=$? >> " +
                             log + ") & sleep 0.5; " + common + "RANK=1 SELLER_STORE_TOKEN=wrong " +
                             seller_binary() +
                             " rendezvous-check --timeout 4 2>&1; echo rank1=$?; wait; cat " + log);
  EXPECT_NE(r.output.find("rank1=1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("wrong token"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("seller store: refused connection from 127.0.0.1:"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("rank0=1"), std::string::npos) << "rank 0 must time out:\n" << r.output;
}

TEST(RendezvousLaunch, PlainMpirunNeedsNoLauncher) {
  if (run_command("command -v mpirun").exit_code != 0) {
    if (seller::testing::in_ci()) FAIL() << "mpirun missing in CI (scripts/setup.sh installs it)";
    GTEST_SKIP() << "mpirun not found (install openmpi-bin)";
  }
  const auto r = run_command(
      "SELLER_STORE_TOKEN=mpi-test-token timeout 120 mpirun --allow-run-as-root --oversubscribe "
      "-np 2 " +
      seller_binary() + " rendezvous-check --timeout 60");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_all_ranks_agree(r.output, 2);
  EXPECT_NE(r.output.find("source=mpi"), std::string::npos) << r.output;
}

}  // namespace
