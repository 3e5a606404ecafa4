// ProcessGroups: the communicators of one rank for the tp/ep/dp/edp groups of a ParallelDims
// layout, built collectively from the world communicator. Layers receive these values; nothing
// in seller keeps a global rank.
//
// Which group reduces what:
//  - tp:  the activations/gradients inside a tensor-parallel layer (all_reduce / all_gather).
//  - ep:  the MoE token all-to-all; expert e lives on the ep rank that owns its global id.
//  - edp: gradients of NON-expert parameters (replicated over data and expert ranks; a
//         tp-sharded parameter's shard is reduced over the ranks with the same tp rank), i.e.
//         dp*ep ranks. With ep = 1 it has the same ranks as dp.
//  - dp:  gradients of EXPERT parameters: the only replicas of an expert are the ranks with the
//         same (e, t) in other data-parallel replicas.
//  - mp:  the tp x ep block of ranks that together hold one model replica (same d): the sum of
//         squared gradient norms for global clipping when both tp and ep are > 1.
//  - world: global scalars (loss, gradient norm across all groups, the stop decision).
#pragma once

#include "dist/comm/communicator.h"
#include "dist/topology/parallel_dims.h"

namespace seller::dist {

struct ProcessGroups {
  ParallelDims dims;
  RankCoord coord;  // this rank's (d, e, t)
  CommunicatorPtr world, tp, ep, dp, edp, mp;
};

// Collective over all ranks of `world`: validates dims against world->size() (ConfigError) and
// splits the five groups, named "tp", "ep", "dp", "edp" and "mp". A group of one rank is still a real
// communicator, so layers need no special case for size 1.
ProcessGroups make_groups(const CommunicatorPtr& world, const ParallelDims& dims);

}  // namespace seller::dist
