// The traffic split, resolved once: each version keeps its declared share and
// the remainder up to 100 goes to the default version.
#pragma once

#include "compiler/ir/project.h"

namespace ferry::ir {

/// Picks the default version (the one marked `default`, else the first) and
/// fills every version's resolved_traffic. Leaves traffic_resolved false and
/// the resolved figures at 0 when any share is outside 0..100, the sum is
/// over 100, more than one version is marked default, or there are no
/// versions; the checks report those.
void ResolveTraffic(Endpoint& endpoint);

}  // namespace ferry::ir
