// Serving rules: the limits each replica's scoring server enforces and its
// dynamic batching (issues 8 and 9).
#include <fmt/format.h>

#include <string>

#include "compiler/check/rules.h"

namespace ferry::check {
namespace {

constexpr std::int64_t kMaxBatch = 4096;
constexpr double kMaxWaitMs = 1000;
constexpr double kMebibyte = 1024.0 * 1024.0;

void CheckLimits(const Context& context, const ir::Endpoint& endpoint, const ir::Version& version) {
  const ir::Origin& origin = version.origin;
  const ir::Serving& serving = version.serving;
  if (serving.max_body_bytes <= 0) {
    context.sink.Add(
        diag::Code::kServingLimit, FieldAt(origin, "serving.max_body_mb", "serving"),
        origin.PathOf("serving.max_body_mb"),
        fmt::format("{} accepts request bodies of at most {} MB; it must be positive",
                    DescribeVersion(endpoint, version),
                    FormatNumber(static_cast<double>(serving.max_body_bytes) / kMebibyte)));
  }
  if (serving.request_timeout_ms <= 0) {
    context.sink.Add(diag::Code::kServingLimit,
                     FieldAt(origin, "serving.request_timeout_ms", "serving"),
                     origin.PathOf("serving.request_timeout_ms"),
                     fmt::format("{} has a request timeout of {} ms; it must be positive",
                                 DescribeVersion(endpoint, version), serving.request_timeout_ms));
  }
}

void CheckBatching(const Context& context, const ir::Endpoint& endpoint,
                   const ir::Version& version) {
  const ir::Origin& origin = version.origin;
  const ir::Batching& batching = version.batching;
  // Checked even when disabled: turning it on later must not surface old mistakes.
  if (batching.max_batch < 1 || batching.max_batch > kMaxBatch) {
    context.sink.Add(
        diag::Code::kBatchingRange, FieldAt(origin, "batching.max_batch", "batching"),
        origin.PathOf("batching.max_batch"),
        fmt::format("{} batches at most {} rows; max_batch must be 1..{}",
                    DescribeVersion(endpoint, version), batching.max_batch, kMaxBatch));
  }
  if (!(batching.max_wait_ms >= 0 && batching.max_wait_ms <= kMaxWaitMs)) {
    context.sink.Add(diag::Code::kBatchingRange,
                     FieldAt(origin, "batching.max_wait_ms", "batching"),
                     origin.PathOf("batching.max_wait_ms"),
                     fmt::format("{} waits {} ms for a batch to fill; max_wait_ms must be 0..{}",
                                 DescribeVersion(endpoint, version),
                                 FormatNumber(batching.max_wait_ms), FormatNumber(kMaxWaitMs)));
  }
}

}  // namespace

void CheckServing(const Context& context) {
  for (const ir::Endpoint& endpoint : context.project.endpoints) {
    for (const ir::Version& version : endpoint.versions) {
      CheckLimits(context, endpoint, version);
      CheckBatching(context, endpoint, version);
    }
  }
}

}  // namespace ferry::check
