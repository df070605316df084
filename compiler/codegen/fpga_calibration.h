// Internal to the FPGA back end: the calibration rows, read from JSON
// {"data": [row, ...]} with every error at its line and column, or made up
// when none were given (W0823).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compiler/codegen/backend.h"

namespace ferry::codegen::fpga {

/// Rows of one model input each, flattened (NCHW order for images).
struct Calibration {
  std::vector<std::vector<float>> rows;
  /// Where they came from, for the bundle's notes: "calibration.json (32 rows)".
  std::string source;
};

/// What the rows must be: `row_size` numbers each. `image` says that the
/// input is an image scaled to 0..1, so that a synthetic set may stand in
/// when no numeric rows were given.
struct InputFacts {
  std::int64_t row_size = 0;
  bool image = false;
};

/// The rows of `source`. A calibration file that is not such JSON, or a row
/// of the wrong size, is E0822 at its line:column. Rows from the input
/// sample, or none at all, warn (W0823); image rows given as strings are
/// replaced by the synthetic set when `input.image`, else E0822.
auto ReadCalibration(const CalibrationSource& source, const InputFacts& input, diag::Sink& sink)
    -> std::optional<Calibration>;

/// The synthetic image set: black, white, then uniform noise (a fixed seed).
auto SyntheticImageRows(std::int64_t row_size) -> std::vector<std::vector<float>>;

}  // namespace ferry::codegen::fpga
