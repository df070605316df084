#include "compiler/ir/project.h"

namespace ferry::ir {

auto Origin::At(std::string_view field) const -> const diag::Location& {
  auto it = fields.find(field);
  return it == fields.end() ? location : it->second;
}

auto Origin::PathOf(std::string_view field) const -> std::string {
  if (path.empty()) return std::string(field);
  return path + "." + std::string(field);
}

auto ToString(Provider value) -> std::string_view {
  switch (value) {
    case Provider::Aks:
      return "aks";
    case Provider::Kubernetes:
      return "kubernetes";
    case Provider::Local:
      return "local";
  }
  return "aks";
}

auto ToString(Purpose value) -> std::string_view {
  switch (value) {
    case Purpose::FastProd:
      return "fast_prod";
    case Purpose::DevTest:
      return "dev_test";
  }
  return "fast_prod";
}

auto ToString(Target value) -> std::string_view {
  switch (value) {
    case Target::Cpu:
      return "cpu";
    case Target::Gpu:
      return "gpu";
    case Target::Fpga:
      return "fpga";
  }
  return "cpu";
}

auto ToString(Role value) -> std::string_view {
  switch (value) {
    case Role::Control:
      return "control";
    case Role::Treatment:
      return "treatment";
  }
  return "treatment";
}

auto ToString(Routing value) -> std::string_view {
  switch (value) {
    case Routing::Router:
      return "router";
    case Routing::Gateway:
      return "gateway";
  }
  return "router";
}

}  // namespace ferry::ir
