// swagger.json: the OpenAPI 3.0 document of one scoring bundle, which
// `serve` returns at GET /swagger.json (and the router forwards). Request and
// response schemas are inferred from the endpoint's samples, which are also
// its examples.
#pragma once

#include <string>

#include "compiler/ir/project.h"
#include "compiler/support/value.h"

namespace ferry::render {

/// The JSON Schema (OpenAPI 3.0 dialect) of `sample`: objects list their
/// properties (all required), arrays the merged schema of their items,
/// integers and other numbers stay apart unless mixed (then number), and
/// values of different kinds leave the schema open ({}).
auto InferSchema(const support::Value& sample) -> support::Value;

/// The OpenAPI document of `endpoint`'s version `version`: POST /score with
/// the samples (null when absent: a generic object), GET /healthz, /readyz,
/// /metrics and /swagger.json, the error responses the server gives, and a
/// bearer security scheme when key or token auth is on. Canonical JSON
/// (sorted keys) with a final newline.
auto SwaggerJson(const ir::Endpoint& endpoint, const ir::Version& version,
                 const support::Value& input_sample, const support::Value& output_sample)
    -> std::string;

}  // namespace ferry::render
