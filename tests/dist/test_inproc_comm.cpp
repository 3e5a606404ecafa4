// In-process communicator at 2 and 4 ranks: every operation against a single-process oracle
// computed here from the same per-rank inputs (reductions added in rank order, so the results
// must match bit for bit), async handles, split groups, and the errors a wrong call gets.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <atomic>
#include <string>
#include <vector>

#include "dist/comm/inproc_communicator.h"
#include "trainer/core/error.h"

namespace seller::dist {
namespace {

// Rank r's input: distinct, non-integer values so that a wrong order or operand shows.
torch::Tensor input_of(int r, std::vector<int64_t> shape, torch::ScalarType dtype) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1000 + r);
  torch::Tensor x = torch::randn(shape, gen, torch::kFloat64) * 10;
  return x.to(dtype);
}

torch::Tensor oracle_reduce(const std::vector<torch::Tensor>& xs, ReduceOp op) {
  torch::Tensor acc = xs[0].clone();
  for (size_t i = 1; i < xs.size(); ++i) {
    if (op == ReduceOp::kSum || op == ReduceOp::kAvg) acc.add_(xs[i]);
    if (op == ReduceOp::kMax) acc = torch::maximum(acc, xs[i]);
    if (op == ReduceOp::kMin) acc = torch::minimum(acc, xs[i]);
  }
  if (op == ReduceOp::kAvg) {
    if (at::isIntegralType(acc.scalar_type(), false)) return acc.div(int64_t(xs.size()), "trunc");
    return acc.div(int64_t(xs.size()));
  }
  return acc;
}

class InprocComm : public ::testing::TestWithParam<int> {};

TEST_P(InprocComm, AllReduceEveryOpAndDtypeMatchesOracleBitwise) {
  const int n = GetParam();
  for (auto dtype : {torch::kFloat32, torch::kInt64, torch::kBFloat16}) {
    for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kAvg, ReduceOp::kMax, ReduceOp::kMin}) {
      std::vector<torch::Tensor> inputs, outputs(n);
      for (int r = 0; r < n; ++r) inputs.push_back(input_of(r, {5, 7}, dtype));
      run_ranks(n, [&](Communicator& comm) {
        torch::Tensor t = inputs[comm.rank()].clone();
        comm.all_reduce(t, op);
        outputs[comm.rank()] = t;
      });
      torch::Tensor expected = oracle_reduce(inputs, op);
      for (int r = 0; r < n; ++r) {
        EXPECT_TRUE(torch::equal(outputs[r], expected))
            << "rank " << r << " op " << to_string(op) << " dtype " << dtype;
      }
    }
  }
}

TEST_P(InprocComm, ReduceScatterAndAllGatherMatchOracle) {
  const int n = GetParam();
  std::vector<torch::Tensor> inputs, scattered(n), gathered(n);
  for (int r = 0; r < n; ++r) inputs.push_back(input_of(r, {n * 3, 4}, torch::kFloat32));
  run_ranks(n, [&](Communicator& comm) {
    torch::Tensor out = torch::empty({3, 4});
    comm.reduce_scatter(inputs[comm.rank()], out, ReduceOp::kAvg);
    scattered[comm.rank()] = out;
    torch::Tensor all = torch::full({n * 3, 4}, -1.0f);
    comm.all_gather(out, all);
    gathered[comm.rank()] = all;
  });
  torch::Tensor expected = oracle_reduce(inputs, ReduceOp::kAvg);
  for (int r = 0; r < n; ++r) {
    EXPECT_TRUE(torch::equal(scattered[r], expected.narrow(0, 3 * r, 3))) << "rank " << r;
    EXPECT_TRUE(torch::equal(gathered[r], expected)) << "rank " << r;
  }
}

// counts[src][dst], uneven and with zeros (including a rank that sends nothing at all).
int64_t count(int src, int dst, int n) { return src == n - 1 ? 0 : (src * 3 + dst * 5) % 4; }

TEST_P(InprocComm, AllToAllVUnevenCountsWithZeros) {
  const int n = GetParam();
  std::vector<torch::Tensor> outputs(n);
  // Row j that src sends to dst holds (src, dst, j): any misplaced row is visible.
  auto row = [](int src, int dst, int64_t j) {
    return torch::tensor({float(src), float(dst), float(j)});
  };
  run_ranks(n, [&](Communicator& comm) {
    int me = comm.rank();
    std::vector<int64_t> send(n), recv(n);
    std::vector<torch::Tensor> rows;
    for (int d = 0; d < n; ++d) {
      send[d] = count(me, d, n);
      recv[d] = count(d, me, n);
      for (int64_t j = 0; j < send[d]; ++j) rows.push_back(row(me, d, j));
    }
    torch::Tensor in = rows.empty() ? torch::empty({0, 3}) : torch::stack(rows);
    int64_t total = 0;
    for (auto c : recv) total += c;
    torch::Tensor out = torch::full({total, 3}, -1.0f);
    comm.all_to_all_v(in, send, out, recv);
    outputs[me] = out;
  });
  for (int dst = 0; dst < n; ++dst) {
    std::vector<torch::Tensor> rows;
    for (int src = 0; src < n; ++src) {
      for (int64_t j = 0; j < count(src, dst, n); ++j) rows.push_back(row(src, dst, j));
    }
    torch::Tensor expected = rows.empty() ? torch::empty({0, 3}) : torch::stack(rows);
    EXPECT_TRUE(torch::equal(outputs[dst], expected)) << "rank " << dst;
  }
}

TEST_P(InprocComm, BroadcastSendRecvAndBarrier) {
  const int n = GetParam();
  std::vector<torch::Tensor> bcast(n), received(n);
  run_ranks(n, [&](Communicator& comm) {
    int me = comm.rank();
    torch::Tensor t = me == n - 1 ? input_of(99, {6}, torch::kFloat32) : torch::zeros({6});
    comm.broadcast(t, n - 1);
    bcast[me] = t;
    // A ring where everybody sends first: buffered sends must not deadlock.
    torch::Tensor mine = torch::full({4}, float(me));
    auto s = comm.send(mine, (me + 1) % n, /*tag=*/7);
    torch::Tensor got = torch::empty({4});
    comm.recv(got, (me + n - 1) % n, 7)->wait();
    s->wait();
    received[me] = got;
    comm.barrier();
  });
  for (int r = 0; r < n; ++r) {
    EXPECT_TRUE(torch::equal(bcast[r], input_of(99, {6}, torch::kFloat32))) << "rank " << r;
    EXPECT_TRUE(torch::equal(received[r], torch::full({4}, float((r + n - 1) % n))));
  }
}

TEST_P(InprocComm, AsyncHandlesCompleteInIssueOrder) {
  const int n = GetParam();
  std::vector<std::vector<torch::Tensor>> outputs(n);
  run_ranks(n, [&](Communicator& comm) {
    std::vector<torch::Tensor> ts;
    std::vector<WorkPtr> works;
    for (int i = 0; i < 8; ++i) {
      ts.push_back(torch::full({1000}, float(comm.rank() + i)));
      works.push_back(comm.all_reduce(ts.back(), ReduceOp::kSum, /*async=*/true));
    }
    // The same tensor reduced twice in a row: the second must see the first's result.
    torch::Tensor twice = torch::ones({3});
    auto w1 = comm.all_reduce(twice, ReduceOp::kSum, true);
    auto w2 = comm.all_reduce(twice, ReduceOp::kSum, true);
    w2->wait();
    EXPECT_TRUE(w1->is_completed());  // operations of a communicator finish in order
    for (auto& w : works) w->wait();
    for (auto& w : works) EXPECT_TRUE(w->is_completed());
    ts.push_back(twice);
    outputs[comm.rank()] = ts;
  });
  double base = n * (n - 1) / 2.0;
  for (int r = 0; r < n; ++r) {
    for (int i = 0; i < 8; ++i) {
      EXPECT_TRUE(torch::equal(outputs[r][i], torch::full({1000}, float(base + n * i))));
    }
    EXPECT_TRUE(torch::equal(outputs[r][8], torch::full({3}, float(n * n))));
  }
}

TEST_P(InprocComm, SplitReordersRanksAndLeavesOthersOut) {
  const int n = GetParam();
  std::vector<torch::Tensor> gathered(n);
  std::vector<int> new_rank(n, -2);
  // Odd ranks in reverse order: new rank 0 is the highest odd rank.
  std::vector<int> odd;
  for (int r = n - 1; r >= 0; --r) {
    if (r % 2 == 1) odd.push_back(r);
  }
  run_ranks(n, [&](Communicator& comm) {
    auto group = comm.split(odd, "odd");
    if (comm.rank() % 2 == 0) {
      EXPECT_EQ(group, nullptr);
      new_rank[comm.rank()] = -1;
      return;
    }
    ASSERT_NE(group, nullptr);
    EXPECT_EQ(group->name(), "odd");
    EXPECT_EQ(group->size(), static_cast<int>(odd.size()));
    new_rank[comm.rank()] = group->rank();
    torch::Tensor mine = torch::full({2}, float(comm.rank()));
    torch::Tensor all = torch::empty({2 * group->size()});
    group->all_gather(mine, all);
    gathered[comm.rank()] = all;
  });
  std::vector<float> expect;
  for (int r : odd) expect.insert(expect.end(), {float(r), float(r)});
  for (int r = 0; r < n; ++r) {
    if (r % 2 == 0) {
      EXPECT_EQ(new_rank[r], -1);
      continue;
    }
    EXPECT_EQ(odd[new_rank[r]], r);
    EXPECT_TRUE(torch::equal(gathered[r], torch::tensor(expect)));
  }
}

TEST_P(InprocComm, MismatchedCollectivesFailOnEveryRankNamingBoth) {
  const int n = GetParam();
  std::atomic<int> failures{0};
  try {
    run_ranks(n, [&](Communicator& comm) {
      torch::Tensor t = torch::ones({4});
      torch::Tensor out = torch::empty({4 * n});
      try {
        if (comm.rank() == 1) {
          comm.all_gather(t, out);
        } else {
          comm.all_reduce(t);
        }
      } catch (const Error& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("rank 0 issued all_reduce.sum"), std::string::npos) << msg;
        EXPECT_NE(msg.find("rank 1 issued all_gather"), std::string::npos) << msg;
        EXPECT_NE(msg.find("group world"), std::string::npos) << msg;
        ++failures;
      }
    });
  } catch (const Error&) {
  }
  EXPECT_EQ(failures.load(), n);
}

TEST_P(InprocComm, AllToAllCountDisagreementIsAnError) {
  const int n = GetParam();
  EXPECT_THROW(run_ranks(n,
                         [&](Communicator& comm) {
                           std::vector<int64_t> send(n, 1), recv(n, 1);
                           if (comm.rank() == 0) recv[1] = 2;  // rank 1 sends only 1
                           int64_t total = n + (comm.rank() == 0 ? 1 : 0);
                           torch::Tensor in = torch::zeros({n, 2}), out = torch::zeros({total, 2});
                           comm.all_to_all_v(in, send, out, recv);
                         }),
               Error);
}

INSTANTIATE_TEST_SUITE_P(Ranks, InprocComm, ::testing::Values(2, 4));

TEST(InprocCommErrors, BadArgumentsNameTheProblem) {
  run_ranks(2, [](Communicator& comm) {
    torch::Tensor strided = torch::zeros({4, 4}).t();
    try {
      comm.all_reduce(strided);
      ADD_FAILURE() << "no error for a non-contiguous tensor";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("contiguous"), std::string::npos) << e.what();
    }
    torch::Tensor t = torch::zeros({4});
    EXPECT_THROW(comm.broadcast(t, 5), Error);
    EXPECT_THROW(comm.send(t, -1), Error);
    torch::Tensor out = torch::zeros({3});
    EXPECT_THROW(comm.all_gather(t, out), Error);
    EXPECT_THROW(comm.all_to_all_v(t, {1, 1}, t, {4, 0}), Error);  // sums to 2, not 4
    EXPECT_THROW(comm.split({0, 0}, "dup"), Error);
    comm.barrier();  // the communicator still works after rejected calls
  });
}

TEST(InprocCommErrors, FirstFailureIsRethrownAndOthersDoNotHang) {
  try {
    run_ranks(4, [](Communicator& comm) {
      if (comm.rank() == 2) throw ConfigError("rank two gave up");
      torch::Tensor t = torch::ones({8});
      comm.all_reduce(t);  // rank 2 never joins: the abort must release the others
    });
    FAIL() << "no exception";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "rank two gave up");
  }
}

}  // namespace
}  // namespace seller::dist
