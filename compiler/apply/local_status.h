// What the local executor sees running: `plan --refresh` (Observed),
// `ferry status`, `ferry logs`, from the state, the router's status file and
// the files under .ferry/.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/apply/executor.h"
#include "compiler/apply/local_router.h"

namespace ferry::apply {

/// Every recorded resource as it is now: the router alive (pid file locked,
/// status written by it), versions running their recorded revision and
/// ready, traffic with its recorded weights, secrets' files and bundles'
/// cache entries present.
auto ObserveLocal(const plan::State& state, const LocalRouter& router) -> std::vector<Observed>;

/// The endpoints of `state` with what the router reports about them.
auto LocalEndpointStatus(const plan::State& state, const LocalRouter& router, std::string& error)
    -> std::vector<EndpointStatus>;

/// The last `lines` lines of each replica log of `endpoint` (one version, or
/// all recorded ones when `version` is empty), each line prefixed with its
/// replica's name ("faq-live-0 | ...").
auto LocalLogs(const plan::State& state, const LocalFiles& files, std::string_view endpoint,
               std::string_view version, std::size_t lines, std::string& error) -> std::string;

/// The last `lines` lines of one version's replica logs: those `status`
/// names and the files .ferry/logs/<endpoint>-<version>-<slot>.log.
auto ReplicaLogTails(const std::string& endpoint, const std::string& version,
                     const LocalFiles& files, const std::optional<RouterStatus>& status,
                     std::size_t lines) -> std::string;

}  // namespace ferry::apply
