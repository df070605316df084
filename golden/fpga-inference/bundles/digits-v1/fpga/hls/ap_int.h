// A C-simulation stand-in for Vitis HLS's ap_int.h, copied into FPGA bundles
// (fpga/hls/) and used only when the Vitis headers are absent: ap_int<W> and
// ap_uint<W> hold a W-bit two's-complement (or unsigned) value, wrap on
// assignment like the real types, and widen to 64 bits in arithmetic. Enough
// for ferry's generated kernels (W <= 64); not the full ap_int interface.
#pragma once

#include <cstdint>

template <int W>
class ap_int {
  static_assert(W >= 1 && W <= 64, "ap_int shim: 1 to 64 bits");

 public:
  ap_int() = default;
  ap_int(long long value) : value_(Wrap(value)) {}  // NOLINT: implicit, as the real type
  operator long long() const { return value_; }      // NOLINT: implicit, as the real type
  auto operator+=(long long value) -> ap_int& {
    value_ = Wrap(value_ + value);
    return *this;
  }
  auto operator-=(long long value) -> ap_int& {
    value_ = Wrap(value_ - value);
    return *this;
  }

 private:
  static auto Wrap(long long value) -> long long {
    if (W == 64) return value;
    const unsigned long long mask = (1ULL << W) - 1;
    unsigned long long bits = static_cast<unsigned long long>(value) & mask;
    if (bits >> (W - 1)) bits |= ~mask;  // sign-extend
    return static_cast<long long>(bits);
  }
  long long value_ = 0;
};

template <int W>
class ap_uint {
  static_assert(W >= 1 && W <= 63, "ap_uint shim: 1 to 63 bits");

 public:
  ap_uint() = default;
  ap_uint(long long value)  // NOLINT: implicit, as the real type
      : value_(static_cast<long long>(static_cast<unsigned long long>(value) &
                                      ((1ULL << W) - 1))) {}
  operator long long() const { return value_; }  // NOLINT: implicit, as the real type

 private:
  long long value_ = 0;
};
