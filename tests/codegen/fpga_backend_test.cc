// The FPGA back end: the fpga/ folder it generates for the fpga-inference
// sample's CNN (HLS pragmas, Tcl script, resources), its calibration errors
// at their line:column, the operators it refuses, and the C simulation built
// with CMake + g++ and run against the float reference (which must also fail
// when the reference disagrees).
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "compiler/codegen/backend.h"
#include "tests/onnx/test_models.h"

namespace ferry::codegen {
namespace {

constexpr const char* kSampleModel = "samples/fpga-inference/models/digit_reader_v1.onnx";

auto Source(const std::string& relative) -> std::string {
  return std::string(FERRY_SOURCE_DIR) + "/" + relative;
}

auto SampleCalibration() -> CalibrationSource {
  return CalibrationSource{
      .file = "samples/fpga-inference/calibration.json",
      .json = testing::ReadFileBytes(Source("samples/fpga-inference/calibration.json")),
      .sample = std::nullopt};
}

auto Compile(const std::string& file, const std::string& bytes, CalibrationSource calibration,
             diag::Sink& sink) -> std::optional<CompiledBundle> {
  const ModelSource source{.name = "model",
                           .file = file,
                           .bytes = bytes,
                           .folder = "",
                           .calibration = std::move(calibration),
                           .stages = {}};
  return CompileModels({&source, 1}, Target::kFpga, Isa::kPortable, sink);
}

auto FileText(const CompiledBundle& bundle, const std::string& path) -> std::string {
  for (const File& file : bundle.files) {
    if (file.path == path) return file.bytes;
  }
  FAIL("no file " << path);
  return "";
}

auto CompileSample(diag::Sink& sink) -> std::optional<CompiledBundle> {
  return Compile(kSampleModel, testing::ReadFileBytes(Source(kSampleModel)), SampleCalibration(),
                 sink);
}

TEST_CASE("fpga: the sample CNN becomes HLS C++ with the CPU code kept as host reference") {
  diag::Sink sink;
  std::optional<CompiledBundle> bundle = CompileSample(sink);
  REQUIRE(bundle);
  CHECK(sink.diagnostics().empty());
  CHECK(bundle->manifest["target"] == support::Value("fpga"));
  CHECK(!FileText(*bundle, "model.cc").empty());  // the host reference
  const std::string kernel = FileText(*bundle, "fpga/model_hls.cpp");
  for (const char* expected :
       {"#pragma HLS DATAFLOW", "#pragma HLS PIPELINE II=1",
        "#pragma HLS INTERFACE axis port=input", "#pragma HLS INTERFACE m_axi port=input",
        "ARRAY_PARTITION variable=conv2_w cyclic factor=72",
        "ARRAY_PARTITION variable=fc1_w cyclic factor=28", "static void conv1(",
        "// conv1, conv1.relu (Conv + relu): [1, 28, 28] int8 -> [8, 28, 28] int8",
        "static void fc2(", "void ferry_fpga_stream("}) {
    CAPTURE(expected);
    CHECK(kernel.find(expected) != std::string::npos);
  }
  // Softmax and TopK stay on the host.
  CHECK(kernel.find("probabilities") == std::string::npos);
  const std::string header = FileText(*bundle, "fpga/kernel.h");
  CHECK(header.find("typedef ap_int<8> act0_t;") != std::string::npos);
  CHECK(header.find("static const int kFerryOutputElements = 10;") != std::string::npos);
  const std::string tcl = FileText(*bundle, "fpga/run_hls.tcl");
  for (const char* command :
       {"open_project", "set_top ferry_fpga_top", "add_files model_hls.cpp", "add_files -tb tb.cpp",
        "csim_design", "csynth_design", "export_design"}) {
    CAPTURE(command);
    CHECK(tcl.find(command) != std::string::npos);
  }
  CHECK(FileText(*bundle, "fpga/hls/ap_int.h").find("class ap_int") != std::string::npos);
  CHECK(FileText(*bundle, "fpga/hls/hls_stream.h").find("class stream") != std::string::npos);
  CHECK(FileText(*bundle, "fpga/host.cpp").find("xrt::kernel") != std::string::npos);
}

TEST_CASE("fpga: resources.yaml has per-layer multipliers and on-chip bytes") {
  diag::Sink sink;
  std::optional<CompiledBundle> bundle = CompileSample(sink);
  REQUIRE(bundle);
  const std::string resources = FileText(*bundle, "fpga/resources.yaml");
  // conv2: 8 input channels x 3 x 3 taps unrolled, plus the requantizing multiply;
  // its weights are 16*8*9 int8 plus 16 int32 biases.
  CHECK(resources.find("multipliers: 73\n") != std::string::npos);
  CHECK(resources.find("weight_bytes: 1216\n") != std::string::npos);
  CHECK(resources.find("calibration: \"calibration.json (32 rows)\"") != std::string::npos);
  CHECK(resources.find("- \"probabilities (Softmax)\"") != std::string::npos);
  CHECK(resources.find("onchip_bytes:") != std::string::npos);
}

TEST_CASE("fpga: generation is deterministic") {
  diag::Sink first_sink, second_sink;
  std::optional<CompiledBundle> first = CompileSample(first_sink);
  std::optional<CompiledBundle> second = CompileSample(second_sink);
  REQUIRE(first);
  REQUIRE(second);
  REQUIRE(first->files.size() == second->files.size());
  for (std::size_t i = 0; i < first->files.size(); ++i) {
    CHECK(first->files[i].path == second->files[i].path);
    CHECK(first->files[i].bytes == second->files[i].bytes);
  }
}

auto CalibrationErrors(const std::string& json) -> std::vector<diag::Diagnostic> {
  diag::Sink sink;
  CHECK(!Compile(kSampleModel, testing::ReadFileBytes(Source(kSampleModel)),
                 CalibrationSource{.file = "cal.json", .json = json, .sample = std::nullopt},
                 sink));
  return sink.diagnostics();
}

TEST_CASE("fpga: a corrupted calibration file is E0822 at its line and column") {
  std::vector<diag::Diagnostic> errors = CalibrationErrors("{\"data\": [\n  [0.5, 0.25,]\n]}");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].code == diag::Code::kFpgaCalibration);
  CHECK(errors[0].location.file == "cal.json");
  CHECK(errors[0].location.line == 2);
  CHECK(errors[0].location.column == 14);
  CHECK(errors[0].message == "calibration data is not valid JSON: expected a JSON value");

  errors = CalibrationErrors("{\"data\": [\n  [0.5, 0.25]\n]}");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].location.line == 2);
  CHECK(errors[0].location.column == 3);
  CHECK(errors[0].path == "data[0]");
  CHECK(errors[0].message == "row 0 has 2 numbers; one input of the model has 784");

  errors = CalibrationErrors("{\"rows\": []}");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].message ==
        "calibration data must be an object {\"data\": [row, ...]} with at least one row");

  errors = CalibrationErrors("{\"data\": [\"iVBORw0KGgo=\"]}");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].message.starts_with("calibration rows are strings"));
}

TEST_CASE("fpga: without a calibration file an image model warns and calibrates on a fallback") {
  diag::Sink sink;
  const diag::Location sample{.file = "ferry.yaml", .line = 7, .column = 5, .end_column = 0};
  std::optional<CompiledBundle> bundle =
      Compile(kSampleModel, testing::ReadFileBytes(Source(kSampleModel)),
              CalibrationSource{.file = "ferry.yaml",
                                .json = "{\"data\":[\"iVBORw0KGgoAAAANSUhEUgAAABwAAAAc\"]}",
                                .sample = sample},
              sink);
  REQUIRE(bundle);
  REQUIRE(sink.diagnostics().size() == 1);
  CHECK(sink.diagnostics()[0].code == diag::Code::kFpgaCalibrationFallback);
  CHECK(sink.diagnostics()[0].location == sample);
  CHECK(FileText(*bundle, "fpga/resources.yaml").find("synthetic images") != std::string::npos);
}

TEST_CASE("fpga: operators the kernel cannot run are E0821 naming the node") {
  SUBCASE("a grouped convolution in the cnn test model") {
    diag::Sink sink;
    CHECK(!Compile("cnn.onnx", testing::TestModel("cnn"), {}, sink));
    REQUIRE(sink.diagnostics().size() == 1);
    CHECK(sink.diagnostics()[0].code == diag::Code::kFpgaOperator);
    CHECK(sink.diagnostics()[0].path == "node 'conv2' (Conv)");
    CHECK(sink.diagnostics()[0].message == "grouped convolutions are not supported on FPGA");
  }
  SUBCASE("a tanh epilogue in the mlp test model") {
    diag::Sink sink;
    CalibrationSource rows{.file = "rows.json",
                           .json = "{\"data\": [[1, 2, 3, 4], [0.5, -1, 2, 0]]}",
                           .sample = std::nullopt};
    CHECK(!Compile("mlp.onnx", testing::TestModel("mlp"), rows, sink));
    REQUIRE(sink.diagnostics().size() == 1);
    CHECK(sink.diagnostics()[0].code == diag::Code::kFpgaOperator);
    CHECK(sink.diagnostics()[0].message ==
          "has a tanh epilogue; the FPGA kernel supports relu and clip");
  }
}

auto Run(const std::string& command) -> int {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_CASE(
    "fpga-csim: the sample's C simulation builds with CMake + g++ and tracks the float model") {
  diag::Sink sink;
  std::optional<CompiledBundle> bundle = CompileSample(sink);
  REQUIRE(bundle);
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("ferry-fpga-csim-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  for (const File& file : bundle->files) {
    if (!file.path.starts_with("fpga/")) continue;
    const std::filesystem::path path = dir / file.path.substr(5);
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << file.bytes;
  }
  const std::string d = dir.string();
  REQUIRE(Run("cmake -S " + d + " -B " + d + "/build -DCMAKE_BUILD_TYPE=Release > " + d +
              "/cmake.log 2>&1") == 0);
  REQUIRE(Run("cmake --build " + d + "/build > " + d + "/build.log 2>&1") == 0);
  // The quantized kernel agrees with the float reference on the calibration rows...
  CHECK(Run(d + "/build/fpga_csim " + d + "/tb_data.bin > " + d + "/csim.log") == 0);
  std::ifstream log(d + "/csim.log");
  const std::string text{std::istreambuf_iterator<char>(log), std::istreambuf_iterator<char>()};
  CHECK(text.find("PASS") != std::string::npos);
  // ...and the test bench fails when the reference says otherwise: every
  // reference output set to the same large value for class 0 of each row.
  std::string data = testing::ReadFileBytes(d + "/tb_data.bin");
  const std::size_t reference = 16 + std::size_t{32} * 784 * 4;
  REQUIRE(data.size() == reference + std::size_t{32} * 10 * 4);
  for (std::size_t r = 0; r < 32; ++r) {
    for (std::size_t o = 0; o < 10; ++o) {
      const float value = o == 9 ? 100.0F : -100.0F;
      std::memcpy(data.data() + reference + (r * 10 + o) * 4, &value, 4);
    }
  }
  std::ofstream(d + "/bad.bin", std::ios::binary) << data;
  CHECK(Run(d + "/build/fpga_csim " + d + "/bad.bin > /dev/null") == 1);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ferry::codegen
