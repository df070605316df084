// Tree ensembles: the ONNX-ML attribute arrays are flattened once into
// compact node records (children by index, leaves as negative indices) and
// evaluated row by row. The binary-classifier corner cases follow ONNX
// Runtime so both produce the same probabilities for scikit-learn's models.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "runtime/kernels_ml.h"

namespace ferry_rt::k {
namespace {

enum NodeMode : std::uint8_t { kLeq, kLt, kGte, kGt, kEq, kNeq, kLeaf };
enum AggregateKind { kSum, kAverage, kMin, kMax };

auto ParseMode(const std::string& name) -> NodeMode {
  if (name == "BRANCH_LEQ") return kLeq;
  if (name == "BRANCH_LT") return kLt;
  if (name == "BRANCH_GTE") return kGte;
  if (name == "BRANCH_GT") return kGt;
  if (name == "BRANCH_EQ") return kEq;
  if (name == "BRANCH_NEQ") return kNeq;
  if (name == "LEAF") return kLeaf;
  throw Error("tree ensemble: unknown node mode '" + name + "'");
}

auto ParseAggregate(const std::string& name) -> AggregateKind {
  if (name == "SUM" || name.empty()) return kSum;
  if (name == "AVERAGE") return kAverage;
  if (name == "MIN") return kMin;
  if (name == "MAX") return kMax;
  throw Error("tree ensemble: unknown aggregate_function '" + name + "'");
}

auto Logistic(float v) -> float {
  float e = 1.0F / (1.0F + std::exp(-std::fabs(v)));
  return v < 0 ? 1.0F - e : e;
}

}  // namespace

TreeEnsemble::TreeEnsemble(const TreeEnsembleAttributes& a, std::int64_t features, bool classifier)
    : base_values_(a.base_values), features_(features), classifier_(classifier) {
  aggregate_ = ParseAggregate(a.aggregate_function);
  post_ = ParsePostTransform(a.post_transform);
  labels_i64_ = a.classlabels_int64s;
  labels_str_ = a.classlabels_strings;
  targets_ = classifier
                 ? std::max<std::int64_t>(std::ssize(labels_i64_) + std::ssize(labels_str_), 1)
                 : a.n_targets;
  std::size_t count = a.nodes_nodeids.size();
  auto need = [count](std::size_t size, const char* name) {
    if (size != count) {
      throw Error(std::string("tree ensemble: ") + name + " has " + std::to_string(size) +
                  " values for " + std::to_string(count) + " nodes");
    }
  };
  need(a.nodes_treeids.size(), "nodes_treeids");
  need(a.nodes_featureids.size(), "nodes_featureids");
  need(a.nodes_values.size(), "nodes_values");
  need(a.nodes_modes.size(), "nodes_modes");
  need(a.nodes_truenodeids.size(), "nodes_truenodeids");
  need(a.nodes_falsenodeids.size(), "nodes_falsenodeids");
  if (!a.nodes_missing_value_tracks_true.empty()) {
    need(a.nodes_missing_value_tracks_true.size(), "nodes_missing_value_tracks_true");
  }
  if (a.leaf_treeids.size() != a.leaf_nodeids.size() ||
      a.leaf_ids.size() != a.leaf_nodeids.size() ||
      a.leaf_weights.size() != a.leaf_nodeids.size()) {
    throw Error("tree ensemble: the leaf weight arrays differ in length");
  }
  std::map<std::pair<std::int64_t, std::int64_t>, std::int32_t> index;
  for (std::size_t i = 0; i < count; ++i) {
    if (!index
             .emplace(std::make_pair(a.nodes_treeids[i], a.nodes_nodeids[i]),
                      static_cast<std::int32_t>(i))
             .second) {
      throw Error("tree ensemble: node " + std::to_string(a.nodes_nodeids[i]) + " of tree " +
                  std::to_string(a.nodes_treeids[i]) + " appears twice");
    }
  }
  // Leaf weights grouped by node.
  std::vector<std::vector<LeafWeight>> node_weights(count);
  for (std::size_t i = 0; i < a.leaf_nodeids.size(); ++i) {
    auto found = index.find({a.leaf_treeids[i], a.leaf_nodeids[i]});
    if (found == index.end()) throw Error("tree ensemble: a leaf weight names a missing node");
    if (a.leaf_ids[i] < 0 || a.leaf_ids[i] >= targets_) {
      throw Error("tree ensemble: target/class id " + std::to_string(a.leaf_ids[i]) +
                  " is outside [0, " + std::to_string(targets_) + ")");
    }
    node_weights[found->second].push_back(
        {static_cast<std::int32_t>(a.leaf_ids[i]), a.leaf_weights[i]});
  }
  std::set<std::int64_t> classes_used;
  bool all_positive = true;
  for (std::size_t i = 0; i < a.leaf_ids.size(); ++i) {
    classes_used.insert(a.leaf_ids[i]);
    if (a.leaf_weights[i] < 0) all_positive = false;
  }
  binary_ = classifier && targets_ == 2 && classes_used.size() == 1;
  weights_positive_ = all_positive;
  nodes_.resize(count);
  std::set<std::int32_t> children;
  for (std::size_t i = 0; i < count; ++i) {
    Node& node = nodes_[i];
    node.mode = ParseMode(a.nodes_modes[i]);
    node.value = a.nodes_values[i];
    node.missing_true =
        !a.nodes_missing_value_tracks_true.empty() && a.nodes_missing_value_tracks_true[i] != 0;
    if (node.mode == kLeaf) {
      node.true_child = -1 - static_cast<std::int32_t>(leaves_.size());
      leaves_.push_back({static_cast<std::int32_t>(weights_.size()),
                         static_cast<std::int32_t>(node_weights[i].size())});
      weights_.insert(weights_.end(), node_weights[i].begin(), node_weights[i].end());
      continue;
    }
    if (a.nodes_featureids[i] < 0 || a.nodes_featureids[i] >= features) {
      throw Error("tree ensemble: node " + std::to_string(a.nodes_nodeids[i]) + " reads feature " +
                  std::to_string(a.nodes_featureids[i]) + " of " + std::to_string(features));
    }
    node.feature = static_cast<std::int32_t>(a.nodes_featureids[i]);
    for (auto [id, slot] : {std::pair{a.nodes_truenodeids[i], &node.true_child},
                            std::pair{a.nodes_falsenodeids[i], &node.false_child}}) {
      auto found = index.find({a.nodes_treeids[i], id});
      if (found == index.end() || found->second == static_cast<std::int32_t>(i)) {
        throw Error("tree ensemble: node " + std::to_string(a.nodes_nodeids[i]) + " of tree " +
                    std::to_string(a.nodes_treeids[i]) + " has a bad child " + std::to_string(id));
      }
      *slot = found->second;
      children.insert(found->second);
    }
  }
  all_leq_ = std::all_of(nodes_.begin(), nodes_.end(), [](const Node& n) {
    return n.mode == kLeaf || (n.mode == kLeq && n.missing_true == 0);
  });
  // Roots: per tree (in order of first appearance), the first node no one points to.
  std::set<std::int64_t> seen;
  for (std::size_t i = 0; i < count; ++i) {
    if (seen.contains(a.nodes_treeids[i]) || children.contains(static_cast<std::int32_t>(i)))
      continue;
    seen.insert(a.nodes_treeids[i]);
    roots_.push_back(static_cast<std::int32_t>(i));
  }
  // Every walk must end: a child index always moves forward in a valid tree's
  // topological order, so reject cycles by walking each tree once, bounded.
  for (std::int32_t root : roots_) {
    std::vector<std::int32_t> stack = {root};
    std::size_t visits = 0;
    while (!stack.empty()) {
      std::int32_t at = stack.back();
      stack.pop_back();
      if (++visits > count) throw Error("tree ensemble: a tree has a cycle");
      if (nodes_[at].mode == kLeaf) continue;
      stack.push_back(nodes_[at].true_child);
      stack.push_back(nodes_[at].false_child);
    }
  }
}

auto TreeEnsemble::FindLeaf(std::int32_t at, const float* row) const -> const Leaf& {
  for (;;) {
    const Node& node = nodes_[at];
    if (node.mode == kLeaf) return leaves_[-1 - node.true_child];
    float x = row[node.feature];
    bool go_true = false;
    switch (node.mode) {
      case kLeq:
        go_true = x <= node.value;
        break;
      case kLt:
        go_true = x < node.value;
        break;
      case kGte:
        go_true = x >= node.value;
        break;
      case kGt:
        go_true = x > node.value;
        break;
      case kEq:
        go_true = x == node.value;
        break;
      case kNeq:
        go_true = x != node.value;
        break;
      default:
        break;
    }
    if (node.missing_true && std::isnan(x)) go_true = true;
    at = go_true ? node.true_child : node.false_child;
  }
}

void TreeEnsemble::Aggregate(const float* row, float* scores, std::uint8_t* has_score) const {
  std::fill(scores, scores + targets_, 0.0F);
  std::fill(has_score, has_score + targets_, 0);
  for (std::int32_t root : roots_) {
    const Leaf& leaf = FindLeaf(root, row);
    for (std::int32_t w = leaf.first_weight; w < leaf.first_weight + leaf.weight_count; ++w) {
      const LeafWeight& lw = weights_[w];
      float& s = scores[lw.target];
      if (aggregate_ == kMin) {
        s = has_score[lw.target] && s < lw.weight ? s : lw.weight;
      } else if (aggregate_ == kMax) {
        s = has_score[lw.target] && s > lw.weight ? s : lw.weight;
      } else {
        s += lw.weight;
      }
      has_score[lw.target] = 1;
    }
  }
  if (aggregate_ == kAverage) {
    for (std::int64_t t = 0; t < targets_; ++t) scores[t] /= static_cast<float>(roots_.size());
  }
}

void TreeEnsemble::RegressOneTarget(const float* x, std::int64_t rows, float* y) const {
  // Rows in blocks, trees outer: one tree's nodes stay hot while the block walks
  // it, and four independent walks at a time overlap their load latencies. Each
  // row still adds its leaves in tree order, so the sums match Aggregate's.
  constexpr std::int64_t kBlock = 64;
  constexpr std::int64_t kLanes = 4;
  float acc[kBlock];
  const Node* nodes = nodes_.data();
  for (std::int64_t first = 0; first < rows; first += kBlock) {
    std::int64_t count = std::min(kBlock, rows - first);
    const float* block = x + first * features_;
    std::fill(acc, acc + count, 0.0F);
    for (std::int32_t root : roots_) {
      auto add_leaf = [&](std::int64_t r, std::int32_t at) {
        const Leaf& leaf = leaves_[-1 - nodes[at].true_child];
        for (std::int32_t w = leaf.first_weight; w < leaf.first_weight + leaf.weight_count; ++w) {
          acc[r] += weights_[w].weight;
        }
      };
      std::int64_t r = 0;
      if (all_leq_) {
        for (; r + kLanes <= count; r += kLanes) {
          std::int32_t at[kLanes];
          const float* row[kLanes];
          for (std::int64_t k = 0; k < kLanes; ++k) {
            at[k] = root;
            row[k] = block + (r + k) * features_;
          }
          for (bool moved = true; moved;) {
            moved = false;
            for (std::int64_t k = 0; k < kLanes; ++k) {
              const Node& node = nodes[at[k]];
              if (node.mode == kLeaf) continue;
              moved = true;
              at[k] = row[k][node.feature] <= node.value ? node.true_child : node.false_child;
            }
          }
          for (std::int64_t k = 0; k < kLanes; ++k) add_leaf(r + k, at[k]);
        }
      }
      for (; r < count; ++r) {
        const Leaf& leaf = FindLeaf(root, block + r * features_);
        for (std::int32_t w = leaf.first_weight; w < leaf.first_weight + leaf.weight_count; ++w) {
          acc[r] += weights_[w].weight;
        }
      }
    }
    for (std::int64_t r = 0; r < count; ++r) {
      float v = acc[r];
      if (aggregate_ == kAverage) v /= static_cast<float>(roots_.size());
      if (base_values_.size() == 1) v += base_values_[0];
      if (post_ == PostTransform::kProbit) ApplyPostTransform(&v, 1, 1, post_);
      y[first + r] = v;
    }
  }
}

void TreeEnsemble::Regress(const float* x, std::int64_t rows, float* y) const {
  if (targets_ == 1 && (aggregate_ == kSum || aggregate_ == kAverage)) {
    RegressOneTarget(x, rows, y);
    return;
  }
  std::vector<std::uint8_t> has(static_cast<std::size_t>(targets_));
  for (std::int64_t r = 0; r < rows; ++r) {
    float* out = y + r * targets_;
    Aggregate(x + r * features_, out, has.data());
    if (targets_ == 1 && base_values_.size() == 1) {
      out[0] += base_values_[0];
    } else if (std::ssize(base_values_) == targets_) {
      for (std::int64_t t = 0; t < targets_; ++t) out[t] += base_values_[t];
    }
    if (targets_ == 1) {
      if (post_ == PostTransform::kProbit) ApplyPostTransform(out, 1, 1, post_);
    } else {
      ApplyPostTransform(out, 1, targets_, post_);
    }
  }
}

auto TreeEnsemble::score_columns() const -> std::int64_t { return targets_; }

void TreeEnsemble::Classify(const float* x, std::int64_t rows, std::int64_t* labels_i64,
                            std::string* labels_str, float* scores) const {
  std::vector<float> s(static_cast<std::size_t>(targets_));
  std::vector<std::uint8_t> has(static_cast<std::size_t>(targets_));
  auto set_label = [&](std::int64_t r, std::int64_t pick) {
    if (labels_str != nullptr) {
      labels_str[r] = labels_str_[pick];
    } else {
      labels_i64[r] = labels_i64_[pick];
    }
  };
  for (std::int64_t r = 0; r < rows; ++r) {
    Aggregate(x + r * features_, s.data(), has.data());
    float* out = scores + r * targets_;
    if (targets_ != 2) {
      for (std::size_t t = 0; t < base_values_.size() && std::ssize(base_values_) == targets_;
           ++t) {
        s[t] += base_values_[t];
        has[t] = 1;
      }
      std::int64_t pick = -1;
      for (std::int64_t t = 0; t < targets_; ++t) {
        if (has[t] && (pick < 0 || s[t] > s[pick])) pick = t;
      }
      set_label(r, std::max<std::int64_t>(pick, 0));
      std::copy(s.begin(), s.end(), out);
      ApplyPostTransform(out, 1, targets_, post_);
      continue;
    }
    // Two classes: ONNX Runtime's rules for one scored class vs two.
    int second = -1;
    bool single = false;
    if (base_values_.size() == 2) {
      if (has[1]) {
        s[1] = base_values_[1] + s[0];
        s[0] = -s[1];
        has[1] = 1;
      } else {
        s[1] += base_values_[1];
        s[0] += base_values_[0];
      }
    } else if (base_values_.size() == 1) {
      s[0] += base_values_[0];
      single = !has[1];
    } else {
      if (base_values_.empty()) second = 3;
      single = !has[1];
    }
    float positive = !single && has[1] ? s[1] : (has[0] ? s[0] : 0.0F);
    std::int64_t pick = 0;
    if (binary_) {
      if (weights_positive_) {
        pick = positive > 0.5F ? 1 : 0;
        second = pick == 1 ? 0 : 1;
      } else {
        pick = positive > 0 ? 1 : 0;
        second = pick == 1 ? 2 : 3;
      }
    } else {
      pick = positive > 0 ? 1 : 0;
    }
    set_label(r, pick);
    if (!single) {
      out[0] = s[0];
      out[1] = s[1];
      ApplyPostTransform(out, 1, 2, post_);
      continue;
    }
    float v = s[0];
    if (post_ == PostTransform::kProbit) {
      ApplyPostTransform(&v, 1, 1, post_);
      out[0] = v;
      out[1] = 0;
    } else if (second == 0 || second == 1) {
      out[0] = 1.0F - v;
      out[1] = v;
    } else if (post_ == PostTransform::kLogistic) {
      out[0] = Logistic(-v);
      out[1] = Logistic(v);
    } else {
      out[0] = -v;
      out[1] = v;
    }
  }
}

}  // namespace ferry_rt::k
