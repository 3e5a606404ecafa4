// make_groups: one split() per group of each kind, issued by every world rank in the same order
// (split is collective over the whole world communicator); each rank keeps the one it is in.
#include "dist/topology/process_groups.h"

#include "trainer/core/error.h"

namespace seller::dist {

ProcessGroups make_groups(const CommunicatorPtr& world, const ParallelDims& dims) {
  SELLER_CHECK(world != nullptr);
  validate_dims(dims, world->size());
  ProcessGroups groups;
  groups.dims = dims;
  groups.coord = coord_of(dims, world->rank());
  groups.world = world;
  auto build = [&](const std::string& kind) {
    CommunicatorPtr mine;
    for (const auto& ranks : group_ranks(dims, kind)) {
      if (auto comm = world->split(ranks, kind)) mine = comm;
    }
    SELLER_CHECK(mine != nullptr, "rank ", world->rank(), " is in no ", kind, " group");
    return mine;
  };
  groups.tp = build("tp");
  groups.ep = build("ep");
  groups.dp = build("dp");
  groups.edp = build("edp");
  groups.mp = build("mp");
  return groups;
}

}  // namespace seller::dist
