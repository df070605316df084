#include <doctest/doctest.h>
#include <fmt/format.h>

#include <optional>
#include <string>
#include <utility>

#include "compiler/plan/plan.h"

namespace ferry::plan {
namespace {

const std::string kSha = "498d0b017421bb32b9d79455248acb125d59f185dec91f2526662501b0001382";

auto MakeAction(ActionKind kind, std::string address, std::string type) -> Action {
  Action action;
  action.kind = kind;
  action.address = std::move(address);
  action.type = std::move(type);
  return action;
}

auto Change(std::string field, std::optional<std::string> before, std::optional<std::string> after,
            bool forces_replacement = false) -> FieldChange {
  FieldChange change;
  change.field = std::move(field);
  change.before = std::move(before);
  change.after = std::move(after);
  change.forces_replacement = forces_replacement;
  return change;
}

auto Sample() -> Plan {
  Plan plan;
  plan.project = "faq-matching";
  plan.executor = "local";
  Resource bundle;
  bundle.address = "bundle.faq.live";
  bundle.type = "bundle";
  bundle.attributes = {
      {"directory", "\"bundles/faq-live\""}, {"sha256", "\"" + kSha + "\""}, {"target", "\"cpu\""}};
  plan.actions.push_back(MakeAction(ActionKind::Create, bundle.address, "bundle"));
  plan.actions.back().desired = bundle;
  plan.actions.push_back(MakeAction(ActionKind::Update, "traffic.faq", "traffic"));
  plan.actions.back().changes = {Change("versions.a.weight", "20.0", "50.0"),
                                 Change("versions.b", std::nullopt, "true")};
  plan.actions.push_back(MakeAction(ActionKind::Replace, "version.faq.b", "version"));
  plan.actions.back().changes = {
      Change("bundle", "\"" + kSha + "\"", "\"cd34" + kSha.substr(4) + "\"", true)};
  plan.actions.back().reason = "the bundle changed";
  plan.actions.push_back(MakeAction(ActionKind::Delete, "secret.old", "secret"));
  return plan;
}

TEST_CASE("plan text: one block per action, then the summary") {
  CHECK(FormatPlanText(Sample(), false) ==
        "ferry will perform these actions (executor local):\n"
        "\n"
        "  + bundle.faq.live\n"
        "      directory: \"bundles/faq-live\"\n"
        "      sha256:    \"498d0b017421…\"\n"
        "      target:    \"cpu\"\n"
        "  ~ traffic.faq\n"
        "      versions.a.weight: 20.0 -> 50.0\n"
        "      versions.b:        (none) -> true\n"
        "  -/+ version.faq.b (the bundle changed)\n"
        "      bundle: \"498d0b017421…\" -> \"cd340b017421…\"   # forces replacement\n"
        "  - secret.old\n"
        "\n"
        "Plan: 1 to create, 1 to update, 1 to replace, 1 to delete.\n");
}

TEST_CASE("plan text: colors mark the kind of each action") {
  const std::string text = FormatPlanText(Sample(), true);
  CHECK(text.find("  \x1b[32m+\x1b[0m bundle.faq.live\n") != std::string::npos);
  CHECK(text.find("  \x1b[33m~\x1b[0m traffic.faq\n") != std::string::npos);
  CHECK(text.find("  \x1b[35m-/+\x1b[0m version.faq.b") != std::string::npos);
  CHECK(text.find("  \x1b[31m-\x1b[0m secret.old\n") != std::string::npos);
  CHECK(FormatPlanText(Sample(), false).find('\x1b') == std::string::npos);
}

TEST_CASE("plan text: a create lists at most twelve fields, long values cut") {
  Resource object;
  object.address = "object.prod.ConfigMap.x";
  object.type = "object";
  for (int i = 0; i < 20; ++i) {
    object.attributes[fmt::format("f{:02}", i)] = "\"" + std::string(100, 'x') + "\"";
  }
  Plan plan;
  plan.executor = "kubernetes";
  plan.actions.push_back(MakeAction(ActionKind::Create, object.address, "object"));
  plan.actions.back().desired = object;
  const std::string text = FormatPlanText(plan, false);
  CHECK(text.find("      f11: \"" + std::string(70, 'x') + "…\n") != std::string::npos);
  CHECK(text.find("f12:") == std::string::npos);
  CHECK(text.find("      … and 8 more\n") != std::string::npos);
}

TEST_CASE("plan text: a multi-line text field shows its changed lines") {
  Plan plan;
  plan.executor = "kubernetes";
  plan.actions.push_back(
      MakeAction(ActionKind::Update, "object.prod.ConfigMap.ferry-router", "object"));
  plan.actions.back().changes = {Change("data.routes.yaml", "\"a: 1\\nweight: 20.0\\nz: 2\\n\"",
                                        "\"a: 1\\nweight: 50.0\\nz: 2\\n\"")};
  CHECK(FormatPlanText(plan, false) ==
        "ferry will perform these actions (executor kubernetes):\n"
        "\n"
        "  ~ object.prod.ConfigMap.ferry-router\n"
        "      data.routes.yaml: (text, changed lines)\n"
        "          @@ -1,3 +1,3 @@\n"
        "           a: 1\n"
        "          -weight: 20.0\n"
        "          +weight: 50.0\n"
        "           z: 2\n"
        "\n"
        "Plan: 0 to create, 1 to update, 0 to replace, 0 to delete.\n");
}

}  // namespace
}  // namespace ferry::plan
