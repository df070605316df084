// The synthesizable part of a model's fpga/ folder: kernel.h, weights.h and
// model_hls.cpp (fpga_emit.h).
#include <fmt/format.h>

#include "compiler/codegen/fpga_emit.h"

namespace ferry::codegen::fpga {
namespace {

auto TypeName(std::size_t tensor) -> std::string { return fmt::format("act{}_t", tensor); }

auto Dims(const QTensor& tensor) -> std::string {
  std::string out;
  for (std::int64_t d : tensor.dims) out += (out.empty() ? "" : ", ") + std::to_string(d);
  return "[" + out + "]";
}

/// Reads a layer's input stream into its frame buffer, partitioned `factor` ways.
auto ReadBuffer(const QPlan& plan, const QLayer& layer, std::int64_t factor) -> std::string {
  const QTensor& in = plan.tensors[layer.input];
  std::string out = fmt::format("  {} buffer[{}];\n", TypeName(layer.input), in.elements);
  if (factor > 1) {
    out +=
        fmt::format("#pragma HLS ARRAY_PARTITION variable=buffer cyclic factor={} dim=1\n", factor);
  }
  out += fmt::format(
      "read_input:\n  for (int i = 0; i < {}; ++i) {{\n#pragma HLS PIPELINE II=1\n"
      "    buffer[i] = in.read();\n  }}\n",
      in.elements);
  return out;
}

auto Requant(const QLayer& layer) -> std::string {
  return fmt::format("ferry_requant<{}>(acc, {}LL, {}, {}, {})", TypeName(layer.output),
                     layer.multiplier, layer.shift, layer.low, layer.high);
}

auto ConvBody(const QPlan& plan, const QLayer& layer) -> std::string {
  const QTensor& in = plan.tensors[layer.input];
  const QTensor& out = plan.tensors[layer.output];
  const bool whole_window = layer.unroll == layer.reduction;
  std::string text = ReadBuffer(plan, layer, layer.kernel_w);
  text += fmt::format("#pragma HLS ARRAY_PARTITION variable={0}_w cyclic factor={1} dim=1\n",
                      layer.name, layer.unroll);
  const std::string pipeline = "#pragma HLS PIPELINE II=1\n";
  text += fmt::format(
      "output_channels:\n  for (int oc = 0; oc < {}; ++oc) {{\n"
      "    for (int oh = 0; oh < {}; ++oh) {{\n      for (int ow = 0; ow < {}; ++ow) {{\n{}"
      "        ap_int<{}> acc = {}_b[oc];\n"
      "        for (int ic = 0; ic < {}; ++ic) {{\n{}",
      out.dims[0], out.dims[1], out.dims[2], whole_window ? pipeline : "", layer.acc_bits,
      layer.name, in.dims[0], whole_window ? "" : pipeline);
  text += fmt::format(
      "          for (int kh = 0; kh < {0}; ++kh) {{\n"
      "            for (int kw = 0; kw < {1}; ++kw) {{\n"
      "              const int h = oh * {2} + kh - {3};\n"
      "              const int w = ow * {4} + kw - {5};\n"
      "              if (h >= 0 && h < {6} && w >= 0 && w < {7}) {{\n"
      "                acc += (long long)buffer[(ic * {6} + h) * {7} + w] *\n"
      "                       (long long){8}_w[((oc * {9} + ic) * {0} + kh) * {1} + kw];\n"
      "              }}\n            }}\n          }}\n        }}\n"
      "        out.write({10});\n      }}\n    }}\n  }}\n",
      layer.kernel_h, layer.kernel_w, layer.stride_h, layer.pad_h, layer.stride_w, layer.pad_w,
      in.dims[1], in.dims[2], layer.name, in.dims[0], Requant(layer));
  return text;
}

auto DenseBody(const QPlan& plan, const QLayer& layer) -> std::string {
  const QTensor& in = plan.tensors[layer.input];
  const QTensor& out = plan.tensors[layer.output];
  std::string text = ReadBuffer(plan, layer, layer.unroll);
  text += fmt::format(
      "#pragma HLS ARRAY_PARTITION variable={0}_w cyclic factor={1} dim=1\n"
      "outputs:\n  for (int o = 0; o < {2}; ++o) {{\n"
      "    ap_int<{3}> acc = {0}_b[o];\n"
      "    for (int i = 0; i < {4}; i += {1}) {{\n#pragma HLS PIPELINE II=1\n"
      "      for (int u = 0; u < {1}; ++u) {{\n"
      "        acc += (long long)buffer[i + u] * (long long){0}_w[o * {4} + i + u];\n"
      "      }}\n    }}\n    out.write({5});\n  }}\n",
      layer.name, layer.unroll, out.elements, layer.acc_bits, in.elements, Requant(layer));
  return text;
}

auto PoolBody(const QPlan& plan, const QLayer& layer) -> std::string {
  const QTensor& in = plan.tensors[layer.input];
  const QTensor& out = plan.tensors[layer.output];
  std::string text = ReadBuffer(plan, layer, layer.kernel_w);
  text += fmt::format(
      "channels:\n  for (int c = 0; c < {0}; ++c) {{\n"
      "    for (int oh = 0; oh < {1}; ++oh) {{\n      for (int ow = 0; ow < {2}; ++ow) {{\n"
      "#pragma HLS PIPELINE II=1\n"
      "        long long best = {3};\n"
      "        for (int kh = 0; kh < {4}; ++kh) {{\n"
      "          for (int kw = 0; kw < {5}; ++kw) {{\n"
      "            const int h = oh * {6} + kh - {7};\n"
      "            const int w = ow * {8} + kw - {9};\n"
      "            if (h >= 0 && h < {10} && w >= 0 && w < {11}) {{\n"
      "              const long long value = buffer[(c * {10} + h) * {11} + w];\n"
      "              if (value > best) best = value;\n"
      "            }}\n          }}\n        }}\n"
      "        out.write(best);\n      }}\n    }}\n  }}\n",
      out.dims[0], out.dims[1], out.dims[2], -(std::int64_t{1} << (in.bits - 1)), layer.kernel_h,
      layer.kernel_w, layer.stride_h, layer.pad_h, layer.stride_w, layer.pad_w, in.dims[1],
      in.dims[2]);
  return text;
}

auto ElementwiseBody(const QPlan& plan, const QLayer& layer) -> std::string {
  const QTensor& in = plan.tensors[layer.input];
  if (layer.kind == LayerKind::kRelu) {
    return fmt::format(
        "elements:\n  for (int i = 0; i < {}; ++i) {{\n#pragma HLS PIPELINE II=1\n"
        "    const long long value = in.read();\n"
        "    out.write(value < {} ? {} : value > {} ? {} : value);\n  }}\n",
        in.elements, layer.low, layer.low, layer.high, layer.high);
  }
  return fmt::format(
      "elements:\n  for (int i = 0; i < {}; ++i) {{\n#pragma HLS PIPELINE II=1\n"
      "    const ap_int<{}> acc = (long long)in.read() + (long long){}_b[i];\n"
      "    out.write({});\n  }}\n",
      in.elements, layer.acc_bits, layer.name, Requant(layer));
}

auto LayerFunction(const QPlan& plan, const QLayer& layer) -> std::string {
  const QTensor& in = plan.tensors[layer.input];
  const QTensor& out = plan.tensors[layer.output];
  std::string text = fmt::format(
      "// {}: {} int{} -> {} int{}; {} multiply-accumulates per cycle.\n"
      "static void {}(hls::stream<{}>& in, hls::stream<{}>& out) {{\n",
      layer.onnx, Dims(in), in.bits, Dims(out), out.bits, layer.unroll, layer.name,
      TypeName(layer.input), TypeName(layer.output));
  switch (layer.kind) {
    case LayerKind::kConv:
      text += ConvBody(plan, layer);
      break;
    case LayerKind::kDense:
      text += DenseBody(plan, layer);
      break;
    case LayerKind::kMaxPool:
      text += PoolBody(plan, layer);
      break;
    case LayerKind::kRelu:
    case LayerKind::kAddConstant:
      text += ElementwiseBody(plan, layer);
      break;
  }
  return text + "}\n\n";
}

/// The layers between `in` and `out` streams, with a FIFO between each two.
auto Dataflow(const QPlan& plan, const std::string& in, const std::string& out) -> std::string {
  std::string text;
  std::string from = in;
  for (std::size_t i = 0; i < plan.layers.size(); ++i) {
    const QLayer& layer = plan.layers[i];
    std::string to = out;
    if (i + 1 < plan.layers.size()) {
      to = "s_" + layer.name;
      text +=
          fmt::format("  hls::stream<{}> {}(\"{}\");\n#pragma HLS STREAM variable={} depth=64\n",
                      TypeName(layer.output), to, layer.name, to);
    }
    text += fmt::format("  {}({}, {});\n", layer.name, from, to);
    from = to;
  }
  return text;
}

auto Literals(const std::vector<std::int64_t>& values) -> std::string {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    out += (i % 16 == 0 ? "\n    " : " ") + std::to_string(values[i]) + ",";
  }
  return out;
}

}  // namespace

auto EmitKernelHeader(const QPlan& plan, const std::string& model) -> std::string {
  const QTensor& in = plan.tensors[plan.input];
  const QTensor& out = plan.tensors[plan.output];
  std::string text = fmt::format(
      "// Generated by ferry compile (fpga back end); do not edit.\n"
      "// The HLS kernel of model '{}': types and scales of its fixed-point tensors\n"
      "// (real value = integer * scale) and its entry points.\n"
      "#pragma once\n\n#include <ap_int.h>\n#include <hls_stream.h>\n\n",
      model);
  for (std::size_t t = 0; t < plan.tensors.size(); ++t) {
    const QTensor& tensor = plan.tensors[t];
    text += fmt::format(
        "// '{}' {}: |x| <= {:.6g} on the calibration rows, scale {:.9g}\n"
        "typedef ap_int<{}> {};\n",
        tensor.name, Dims(tensor), tensor.max_abs, tensor.scale, tensor.bits, TypeName(t));
  }
  text += fmt::format(
      "\ntypedef {} ferry_input_t;\ntypedef {} ferry_output_t;\n"
      "// The same integers as the host sees them in device memory.\n"
      "typedef {} ferry_host_input_t;\ntypedef {} ferry_host_output_t;\n"
      "static const int kFerryInputBits = {};\n"
      "static const int kFerryInputElements = {};\nstatic const int kFerryOutputElements = {};\n"
      "static const double kFerryInputScale = {:.17g};\n"
      "static const double kFerryOutputScale = {:.17g};\n\n",
      TypeName(plan.input), TypeName(plan.output), in.bits == 8 ? "signed char" : "short",
      out.bits == 8 ? "signed char" : "short", in.bits, in.elements, out.elements, in.scale,
      out.scale);
  text +=
      "// (acc * multiplier) / 2^shift, rounded half up, clamped to [low, high].\n"
      "template <typename T>\n"
      "inline T ferry_requant(long long acc, long long multiplier, int shift, long long low,\n"
      "                       long long high) {\n#pragma HLS INLINE\n"
      "  long long scaled = acc * multiplier;\n"
      "  if (shift > 0) scaled = (scaled + (1LL << (shift - 1))) >> shift;\n"
      "  return scaled < low ? low : scaled > high ? high : scaled;\n}\n\n"
      "/// The Vitis kernel: `rows` rows from `input` (kFerryInputElements each) to\n"
      "/// `output` (kFerryOutputElements each), over AXI memory-mapped ports.\n"
      "void ferry_fpga_top(const ferry_input_t* input, ferry_output_t* output, int rows);\n"
      "/// The same layers between AXI streams, one row per call.\n"
      "void ferry_fpga_stream(hls::stream<ferry_input_t>& input,\n"
      "                       hls::stream<ferry_output_t>& output);\n";
  return text;
}

auto EmitWeights(const QPlan& plan) -> std::string {
  std::string text =
      "// Generated by ferry compile (fpga back end); do not edit.\n"
      "// Quantized weights (symmetric, per tensor) and int32 biases at the\n"
      "// accumulator's scale: ROMs in on-chip memory after synthesis.\n"
      "#pragma once\n\n#include \"kernel.h\"\n";
  for (const QLayer& layer : plan.layers) {
    if (!layer.weights.empty()) {
      std::vector<std::int64_t> weights(layer.weights.begin(), layer.weights.end());
      text += fmt::format(
          "\n// {}: weights, scale {:.9g}\nstatic const ap_int<{}> {}_w[{}] = {{{}\n}};\n",
          layer.onnx, layer.weight_scale, layer.weight_bits, layer.name, weights.size(),
          Literals(weights));
    }
    if (!layer.bias.empty()) {
      text += fmt::format("static const ap_int<32> {}_b[{}] = {{{}\n}};\n", layer.name,
                          layer.bias.size(), Literals(layer.bias));
    } else if (layer.kind == LayerKind::kConv || layer.kind == LayerKind::kDense) {
      const QTensor& out = plan.tensors[layer.output];
      const std::int64_t count = layer.kind == LayerKind::kConv ? out.dims[0] : out.elements;
      text += fmt::format("static const ap_int<32> {}_b[{}] = {{}};\n", layer.name, count);
    }
  }
  return text;
}

auto EmitKernel(const QPlan& plan, const std::string& model) -> std::string {
  std::string text = fmt::format(
      "// Generated by ferry compile (fpga back end); do not edit.\n"
      "// Synthesizable HLS C++ (Vitis HLS) for model '{}': {} layers on\n"
      "// fixed-point streams, DATAFLOW between them. Calibrated on {}.\n"
      "#include \"kernel.h\"\n#include \"weights.h\"\n\n",
      model, plan.layers.size(), plan.calibration.source);
  for (const QLayer& layer : plan.layers) text += LayerFunction(plan, layer);
  const QTensor& in = plan.tensors[plan.input];
  const QTensor& out = plan.tensors[plan.output];
  text += fmt::format(
      "static void load_row(const ferry_input_t* input, hls::stream<ferry_input_t>& out) {{\n"
      "  for (int i = 0; i < {0}; ++i) {{\n#pragma HLS PIPELINE II=1\n"
      "    out.write(input[i]);\n  }}\n}}\n\n"
      "static void store_row(hls::stream<ferry_output_t>& in, ferry_output_t* output) {{\n"
      "  for (int i = 0; i < {1}; ++i) {{\n#pragma HLS PIPELINE II=1\n"
      "    output[i] = in.read();\n  }}\n}}\n\n"
      "static void run_row(const ferry_input_t* input, ferry_output_t* output) {{\n"
      "#pragma HLS DATAFLOW\n"
      "  hls::stream<ferry_input_t> s_input(\"input\");\n"
      "  hls::stream<ferry_output_t> s_output(\"output\");\n"
      "  load_row(input, s_input);\n{2}"
      "  store_row(s_output, output);\n}}\n\n",
      in.elements, out.elements, Dataflow(plan, "s_input", "s_output"));
  text +=
      "void ferry_fpga_top(const ferry_input_t* input, ferry_output_t* output, int rows) {\n"
      "#pragma HLS INTERFACE m_axi port=input offset=slave bundle=gmem0\n"
      "#pragma HLS INTERFACE m_axi port=output offset=slave bundle=gmem1\n"
      "#pragma HLS INTERFACE s_axilite port=rows\n"
      "#pragma HLS INTERFACE s_axilite port=return\n"
      "rows:\n  for (int r = 0; r < rows; ++r) {\n"
      "    run_row(input + r * kFerryInputElements, output + r * kFerryOutputElements);\n"
      "  }\n}\n\n"
      "void ferry_fpga_stream(hls::stream<ferry_input_t>& input,\n"
      "                       hls::stream<ferry_output_t>& output) {\n"
      "#pragma HLS INTERFACE axis port=input\n"
      "#pragma HLS INTERFACE axis port=output\n"
      "#pragma HLS INTERFACE ap_ctrl_none port=return\n"
      "#pragma HLS DATAFLOW\n" +
      Dataflow(plan, "input", "output") + "}\n";
  return text;
}

}  // namespace ferry::codegen::fpga
