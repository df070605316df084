// Input validation shared by every generated Model.
#include "runtime/model.h"

#include <string>

namespace ferry_rt {

void CheckInputs(const std::vector<TensorInfo>& infos, const std::vector<Tensor>& inputs) {
  if (inputs.size() != infos.size()) {
    throw Error("the model takes " + std::to_string(infos.size()) + " input(s), got " +
                std::to_string(inputs.size()));
  }
  for (std::size_t i = 0; i < infos.size(); ++i) {
    const TensorInfo& info = infos[i];
    const Tensor& tensor = inputs[i];
    std::string where = "input '" + info.name + "': ";
    if (tensor.dtype != info.dtype) {
      throw Error(where + "expected " + DTypeName(info.dtype) + ", got " + DTypeName(tensor.dtype));
    }
    if (tensor.shape.size() != info.shape.size()) {
      throw Error(where + "expected rank " + std::to_string(info.shape.size()) + ", got rank " +
                  std::to_string(tensor.shape.size()));
    }
    for (std::size_t d = 0; d < info.shape.size(); ++d) {
      if (tensor.shape[d] < 0 || (info.shape[d] >= 0 && tensor.shape[d] != info.shape[d])) {
        throw Error(where + "dimension " + std::to_string(d) + " must be " +
                    std::to_string(info.shape[d]) + ", got " + std::to_string(tensor.shape[d]));
      }
    }
    std::int64_t count = ElementCount(tensor.shape);
    std::size_t held = tensor.dtype == DType::kFloat32 ? tensor.f32.size()
                       : tensor.dtype == DType::kInt64 ? tensor.i64.size()
                                                       : tensor.str.size();
    if (static_cast<std::int64_t>(held) != count) {
      throw Error(where + "holds " + std::to_string(held) + " values for a shape of " +
                  std::to_string(count));
    }
  }
}

}  // namespace ferry_rt
