// A C-simulation stand-in for Vitis HLS's hls_stream.h, copied into FPGA
// bundles (fpga/hls/) and used only when the Vitis headers are absent: an
// unbounded FIFO with the blocking read/write interface of hls::stream. A
// read from an empty stream is a deadlock in hardware; here it aborts with
// the stream's name so a C-simulation shows the mistake.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>

namespace hls {

template <typename T>
class stream {
 public:
  stream() = default;
  explicit stream(const char* name) : name_(name) {}
  stream(const stream&) = delete;
  auto operator=(const stream&) -> stream& = delete;

  void write(const T& value) { fifo_.push_back(value); }
  auto read() -> T {
    if (fifo_.empty()) {
      std::fprintf(stderr, "hls::stream '%s': read from an empty stream\n", name_.c_str());
      std::abort();
    }
    T value = fifo_.front();
    fifo_.pop_front();
    return value;
  }
  auto empty() const -> bool { return fifo_.empty(); }
  auto size() const -> std::size_t { return fifo_.size(); }
  void operator<<(const T& value) { write(value); }
  void operator>>(T& value) { value = read(); }

 private:
  std::string name_ = "unnamed";
  std::deque<T> fifo_;
};

}  // namespace hls
