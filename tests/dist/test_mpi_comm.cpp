// MPI communicator, run under `mpirun -np 2` and `-np 4` (ctest: test_mpi_comm_np2/np4): every
// operation with CPU tensors against a single-process oracle that each rank computes from all
// ranks' inputs (they are a pure function of the rank), plus split groups, make_groups and the
// errors for tensors MPI does not take. Tests use EXPECT only: an early return on one rank
// would leave the others waiting in the next collective.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <string>
#include <vector>

#include "dist/comm/mpi_communicator.h"
#include "dist/topology/process_groups.h"
#include "trainer/core/error.h"

namespace seller::dist {
namespace {

CommunicatorPtr g_world;

torch::Tensor input_of(int r, std::vector<int64_t> shape, torch::ScalarType dtype) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1000 + r);
  return (torch::randn(shape, gen, torch::kFloat64) * 10).to(dtype);
}

torch::Tensor oracle(int n, std::vector<int64_t> shape, torch::ScalarType dtype, ReduceOp op) {
  torch::ScalarType acc_type = dtype == torch::kBFloat16 ? torch::kFloat : dtype;
  torch::Tensor acc = input_of(0, shape, dtype).to(acc_type);
  for (int r = 1; r < n; ++r) {
    torch::Tensor x = input_of(r, shape, dtype).to(acc_type);
    if (op == ReduceOp::kSum || op == ReduceOp::kAvg) acc = acc + x;
    if (op == ReduceOp::kMax) acc = torch::maximum(acc, x);
    if (op == ReduceOp::kMin) acc = torch::minimum(acc, x);
  }
  if (op == ReduceOp::kAvg) {
    acc = at::isIntegralType(acc_type, false) ? acc.div(n, "trunc") : acc.div(n);
  }
  return acc.to(dtype);
}

TEST(MpiComm, AllReduceEveryOpAndDtype) {
  Communicator& comm = *g_world;
  const int n = comm.size();
  for (auto dtype : {torch::kFloat32, torch::kInt64, torch::kBFloat16, torch::kFloat64}) {
    for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kAvg, ReduceOp::kMax, ReduceOp::kMin}) {
      SCOPED_TRACE(::seller::detail::concat(to_string(op), " ", dtype));
      torch::Tensor t = input_of(comm.rank(), {33, 5}, dtype);
      comm.all_reduce(t, op);
      torch::Tensor expected = oracle(n, {33, 5}, dtype, op);
      double tol = dtype == torch::kBFloat16 ? 1e-2 : 1e-6;
      EXPECT_TRUE(torch::allclose(t.to(torch::kDouble), expected.to(torch::kDouble), tol, tol));
      // Every rank holds the same bits (gradients must not drift apart between replicas).
      torch::Tensor all = torch::empty({n * 33, 5}, t.options());
      comm.all_gather(t, all);
      for (int r = 0; r < n; ++r) EXPECT_TRUE(torch::equal(all.narrow(0, 33 * r, 33), t));
    }
  }
}

TEST(MpiComm, ReduceScatterAllGatherBroadcast) {
  Communicator& comm = *g_world;
  const int n = comm.size(), me = comm.rank();
  torch::Tensor in = input_of(me, {n * 4, 3}, torch::kFloat32);
  torch::Tensor out = torch::empty({4, 3});
  comm.reduce_scatter(in, out, ReduceOp::kSum);
  torch::Tensor expected = oracle(n, {n * 4, 3}, torch::kFloat32, ReduceOp::kSum);
  EXPECT_TRUE(torch::allclose(out, expected.narrow(0, 4 * me, 4), 1e-6, 1e-6));
  torch::Tensor gathered = torch::empty({n * 2}, torch::kInt64);
  comm.all_gather(torch::tensor({int64_t(me), int64_t(10 * me)}), gathered);
  for (int r = 0; r < n; ++r) {
    EXPECT_EQ(gathered[2 * r].item<int64_t>(), r);
    EXPECT_EQ(gathered[2 * r + 1].item<int64_t>(), 10 * r);
  }
  torch::Tensor b =
      me == n - 1 ? input_of(77, {9}, torch::kBFloat16) : torch::zeros({9}, torch::kBFloat16);
  comm.broadcast(b, n - 1);
  EXPECT_TRUE(torch::equal(b, input_of(77, {9}, torch::kBFloat16)));
}

int64_t count(int src, int dst, int n) { return src == n - 1 ? 0 : (src * 3 + dst * 5) % 4; }

TEST(MpiComm, AllToAllVUnevenCountsWithZeros) {
  Communicator& comm = *g_world;
  const int n = comm.size(), me = comm.rank();
  auto row = [](int src, int dst, int64_t j) {
    return torch::tensor({float(src), float(dst), float(j)});
  };
  std::vector<int64_t> send(n), recv(n);
  std::vector<torch::Tensor> rows, expected_rows;
  for (int d = 0; d < n; ++d) {
    send[d] = count(me, d, n);
    recv[d] = count(d, me, n);
    for (int64_t j = 0; j < send[d]; ++j) rows.push_back(row(me, d, j));
    for (int64_t j = 0; j < recv[d]; ++j) expected_rows.push_back(row(d, me, j));
  }
  torch::Tensor in = rows.empty() ? torch::empty({0, 3}) : torch::stack(rows);
  torch::Tensor expected =
      expected_rows.empty() ? torch::empty({0, 3}) : torch::stack(expected_rows);
  torch::Tensor out = torch::full({expected.size(0), 3}, -1.0f);
  comm.all_to_all_v(in, send, out, recv, /*async=*/true)->wait();
  EXPECT_TRUE(torch::equal(out, expected));
}

TEST(MpiComm, SendRecvRingAndAsyncHandles) {
  Communicator& comm = *g_world;
  const int n = comm.size(), me = comm.rank();
  torch::Tensor mine = torch::full({1000}, double(me), torch::kFloat64);
  torch::Tensor got = torch::empty({1000}, torch::kFloat64);
  auto r = comm.recv(got, (me + n - 1) % n, 3);
  auto s = comm.send(mine, (me + 1) % n, 3);
  r->wait();
  s->wait();
  EXPECT_TRUE(torch::equal(got, torch::full({1000}, double((me + n - 1) % n), torch::kFloat64)));
  std::vector<torch::Tensor> ts;
  std::vector<WorkPtr> works;
  for (int i = 0; i < 6; ++i) {
    ts.push_back(torch::full({4096}, float(me + i)));
    works.push_back(comm.all_reduce(ts.back(), ReduceOp::kAvg, /*async=*/true));
  }
  for (auto& w : works) w->wait();
  for (int i = 0; i < 6; ++i) {
    EXPECT_TRUE(works[i]->is_completed());
    EXPECT_TRUE(torch::allclose(ts[i], torch::full({4096}, float((n - 1) / 2.0 + i))));
  }
  comm.barrier();
}

TEST(MpiComm, SplitAndProcessGroups) {
  const int n = g_world->size(), me = g_world->rank();
  std::vector<int> odd;
  for (int r = n - 1; r >= 0; --r) {
    if (r % 2 == 1) odd.push_back(r);
  }
  auto group = g_world->split(odd, "odd");
  EXPECT_EQ(group == nullptr, me % 2 == 0);
  if (group) {
    EXPECT_EQ(odd[group->rank()], me);
    torch::Tensor all = torch::empty({group->size()}, torch::kInt64);
    group->all_gather(torch::tensor({int64_t(me)}), all);
    for (size_t i = 0; i < odd.size(); ++i) EXPECT_EQ(all[i].item<int64_t>(), odd[i]);
  }
  ParallelDims dims{.dp = n / 2, .tp = 2, .ep = 1};
  ProcessGroups g = make_groups(g_world, dims);
  torch::Tensor t = torch::tensor({double(me)});
  g.tp->all_reduce(t);
  RankCoord c = coord_of(dims, me);
  EXPECT_EQ(t.item<double>(), rank_of(dims, {c.d, c.e, 0}) + rank_of(dims, {c.d, c.e, 1}));
  torch::Tensor u = torch::tensor({double(me)});
  g.edp->all_reduce(u);
  double expect = 0;
  for (int q = 0; q < n; ++q) expect += coord_of(dims, q).t == c.t ? q : 0;
  EXPECT_EQ(u.item<double>(), expect);
}

TEST(MpiComm, RefusesWhatMpiCannotDo) {
  Communicator& comm = *g_world;
  torch::Tensor meta = torch::empty({4}, torch::TensorOptions().device(torch::kMeta));
  try {
    comm.all_reduce(meta);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "backend mpi does not support all_reduce of meta tensors");
  }
  torch::Tensor flags = torch::ones({4}, torch::kBool);
  EXPECT_THROW(comm.all_reduce(flags), Error);
  comm.barrier();
}

}  // namespace
}  // namespace seller::dist

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  seller::dist::g_world = seller::dist::make_mpi_world();
  int rank = seller::dist::g_world->rank();
  if (rank != 0) {
    // One report is enough; other ranks' failures still fail mpirun's exit status.
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int rc = RUN_ALL_TESTS();
  if (rc != 0) std::fprintf(stderr, "[rank %d] some tests FAILED\n", rank);
  seller::dist::g_world.reset();
  return rc;
}
