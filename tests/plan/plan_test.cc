#include "compiler/plan/plan.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/plan/plan_fixtures.h"

namespace ferry::plan {
namespace {

using testing::Applied;
using testing::IndexOf;
using testing::RenderFaq;
using testing::RenderSample;

const std::string kOneVersion = "      a: {model: faq-ranker@3, traffic: 100}\n";
const std::string kTwoVersions =
    "      a: {model: faq-ranker@3, traffic: 80}\n"
    "      b: {model: faq-ranker@3, traffic: 20}\n";

struct Planned {
  diag::Sink sink;
  Plan plan;
};

auto PlanOf(const testing::Rendered& rendered, const Desired& desired, const State& state)
    -> Planned {
  REQUIRE_FALSE(rendered.sink.HasErrors());
  Planned planned;
  planned.plan = MakePlan(*rendered.run.project, desired, state, planned.sink);
  return planned;
}

/// "kind address" per action, in order.
auto Steps(const Plan& plan) -> std::vector<std::string> {
  std::vector<std::string> steps;
  for (const Action& action : plan.actions) {
    steps.push_back(std::string(ToString(action.kind)) + " " + action.address);
  }
  return steps;
}

TEST_CASE("plan: a first apply creates everything, each resource after what it depends on") {
  for (ExecutorKind executor : {ExecutorKind::Local, ExecutorKind::Kubernetes}) {
    CAPTURE(ToString(executor));
    const testing::Rendered rendered = RenderSample("faq-matching");
    const Desired desired = rendered.Desire(executor);
    const Planned planned = PlanOf(rendered, desired, State{});
    CHECK_FALSE(planned.sink.HasErrors());
    const Plan& plan = planned.plan;
    CHECK(plan.project == "faq-matching");
    CHECK(plan.executor == ToString(executor));
    CHECK(plan.state_lineage.empty());
    CHECK(plan.inputs_sha256 == desired.inputs_sha256);
    REQUIRE(plan.actions.size() == desired.resources.size());
    CHECK(plan.Counts(ActionKind::Create) == desired.resources.size());
    for (const Action& action : plan.actions) {
      CAPTURE(action.address);
      REQUIRE(action.desired.has_value());
      CHECK_FALSE(action.prior.has_value());
      CHECK(action.changes.empty());
      for (const std::string& need : action.desired->depends_on) {
        CHECK(IndexOf(plan, need) < IndexOf(plan, action.address));
      }
    }
  }
}

TEST_CASE("plan: the local executor's creates, in order") {
  const testing::Rendered rendered = RenderSample("faq-matching");
  const Planned planned = PlanOf(rendered, rendered.Desire(ExecutorKind::Local), State{});
  CHECK(Steps(planned.plan) ==
        std::vector<std::string>{"create bundle.faq.live", "create cluster.prod", "create router",
                                 "create secret.faq", "create version.faq.live",
                                 "create traffic.faq"});
}

TEST_CASE("plan: Kubernetes objects are created namespace first and router last") {
  const testing::Rendered rendered = RenderSample("faq-matching");
  const Planned planned = PlanOf(rendered, rendered.Desire(ExecutorKind::Kubernetes), State{});
  const Plan& plan = planned.plan;
  const std::vector<std::string> order = {
      "cluster.prod",
      "object.prod.Namespace.faq-matching",
      "secret.faq",
      "object.prod.Deployment.faq-live",
      "object.prod.ConfigMap.ferry-router",
      "object.prod.Deployment.ferry-router",
  };
  for (std::size_t i = 0; i + 1 < order.size(); ++i) {
    CAPTURE(order[i]);
    CHECK(IndexOf(plan, order[i]) >= 0);
    CHECK(IndexOf(plan, order[i]) < IndexOf(plan, order[i + 1]));
  }
  for (const char* part : {"ServiceAccount", "Role", "RoleBinding"}) {
    CHECK(IndexOf(plan, std::string("object.prod.") + part + ".ferry-router") <
          IndexOf(plan, "object.prod.Deployment.ferry-router"));
  }
}

TEST_CASE("plan: nothing to do right after an apply") {
  for (const std::string sample : {"faq-matching", "gateway-rollout", "dev-test"}) {
    for (ExecutorKind executor : {ExecutorKind::Local, ExecutorKind::Kubernetes}) {
      const testing::Rendered rendered = RenderSample(sample);
      const Desired desired = rendered.Desire(executor);
      const Planned planned = PlanOf(rendered, desired, Applied(desired));
      CHECK_FALSE(planned.sink.HasErrors());
      CHECK_FALSE(planned.plan.HasChanges());
      CHECK(planned.plan.state_serial == 7);
      CHECK(planned.plan.state_lineage == "3f6c0a1e-test");
      CHECK(SummaryLine(planned.plan) ==
            "Plan: 0 to create, 0 to update, 0 to replace, 0 to delete.");
      CHECK(FormatPlanText(planned.plan, false) == "No changes. What runs matches the manifest.\n");
    }
  }
}

TEST_CASE("plan: a traffic edit is one update of the endpoint's traffic") {
  const Desired before = RenderFaq(kTwoVersions).Desire(ExecutorKind::Local);
  const testing::Rendered rendered = RenderFaq(
      "      a: {model: faq-ranker@3, traffic: 50}\n"
      "      b: {model: faq-ranker@3, traffic: 50}\n");
  const Planned planned = PlanOf(rendered, rendered.Desire(ExecutorKind::Local), Applied(before));
  CHECK_FALSE(planned.sink.HasErrors());
  REQUIRE(Steps(planned.plan) == std::vector<std::string>{"update traffic.faq"});
  const Action& action = planned.plan.actions[0];
  CHECK(action.type == "traffic");
  REQUIRE(action.prior.has_value());
  REQUIRE(action.desired.has_value());
  CHECK(action.reason.empty());
  bool weight_changed = false;
  for (const FieldChange& change : action.changes) {
    CHECK(change.field.starts_with("versions."));
    CHECK_FALSE(change.forces_replacement);
    if (change.field == "versions.b.weight") {
      weight_changed = true;
      CHECK(change.before == "20.0");
      CHECK(change.after == "50.0");
    }
  }
  CHECK(weight_changed);
  CHECK(SummaryLine(planned.plan) == "Plan: 0 to create, 1 to update, 0 to replace, 0 to delete.");
}

TEST_CASE("plan: a new version creates its bundle and version, then moves traffic") {
  const Desired before = RenderFaq(kOneVersion).Desire(ExecutorKind::Local);
  const testing::Rendered rendered = RenderFaq(kTwoVersions);
  const Planned planned = PlanOf(rendered, rendered.Desire(ExecutorKind::Local), Applied(before));
  CHECK(Steps(planned.plan) == std::vector<std::string>{"create bundle.faq.b",
                                                        "create version.faq.b",
                                                        "update traffic.faq"});
}

TEST_CASE("plan: a removed version loses its traffic first, then its replicas, then its bundle") {
  const Desired before = RenderFaq(kTwoVersions).Desire(ExecutorKind::Local);
  const testing::Rendered rendered = RenderFaq(kOneVersion);
  const Planned planned = PlanOf(rendered, rendered.Desire(ExecutorKind::Local), Applied(before));
  CHECK(Steps(planned.plan) == std::vector<std::string>{"update traffic.faq",
                                                        "delete version.faq.b",
                                                        "delete bundle.faq.b"});
  const Action& deleted = planned.plan.actions[1];
  CHECK_FALSE(deleted.desired.has_value());
  REQUIRE(deleted.prior.has_value());
  CHECK(deleted.prior->address == "version.faq.b");
}

TEST_CASE("plan: destroying deletes in reverse dependency order") {
  SUBCASE("local") {
    const testing::Rendered rendered = RenderSample("faq-matching");
    const Desired full = rendered.Desire(ExecutorKind::Local);
    Desired empty;
    empty.project = full.project;
    const Planned planned = PlanOf(rendered, empty, Applied(full));
    CHECK(Steps(planned.plan) ==
          std::vector<std::string>{"delete traffic.faq", "delete version.faq.live",
                                   "delete bundle.faq.live", "delete router", "delete secret.faq",
                                   "delete cluster.prod"});
  }
  SUBCASE("kubernetes") {
    const testing::Rendered rendered = RenderSample("faq-matching");
    const Desired full = rendered.Desire(ExecutorKind::Kubernetes);
    Desired empty;
    empty.project = full.project;
    empty.executor = ExecutorKind::Kubernetes;
    const Planned planned = PlanOf(rendered, empty, Applied(full));
    const Plan& plan = planned.plan;
    CHECK(plan.Counts(ActionKind::Delete) == full.resources.size());
    const std::vector<std::string> order = {
        "object.prod.ConfigMap.ferry-router", "object.prod.Deployment.ferry-router",
        "object.prod.Service.faq-live",       "object.prod.RoleBinding.ferry-router",
        "object.prod.Role.ferry-router",      "secret.faq",
        "object.prod.Namespace.faq-matching", "cluster.prod",
    };
    for (std::size_t i = 0; i + 1 < order.size(); ++i) {
      CAPTURE(order[i]);
      CHECK(IndexOf(plan, order[i]) >= 0);
      CHECK(IndexOf(plan, order[i]) < IndexOf(plan, order[i + 1]));
    }
    CHECK(plan.actions.back().address == "cluster.prod");
  }
}

TEST_CASE("plan: a cluster's vm_size change is E0901 and plans nothing for the cluster") {
  const std::string versions = kOneVersion;
  const Desired before = RenderFaq(versions).Desire(ExecutorKind::Local);
  const testing::Rendered rendered = RenderFaq(versions, "Standard_D3_v2", "Standard_D4_v2");
  const Planned planned = PlanOf(rendered, rendered.Desire(ExecutorKind::Local), Applied(before));
  CHECK_FALSE(planned.plan.HasChanges());
  REQUIRE(planned.sink.diagnostics().size() == 1);
  const diag::Diagnostic& error = planned.sink.diagnostics()[0];
  CHECK(error.code == diag::Code::kVmSizeInPlace);
  CHECK(error.severity == diag::Severity::Error);
  CHECK(error.path == "clusters.prod.vm_size");
  CHECK(error.location.file == "ferry.yaml");
  CHECK(error.location.line == 9);
  CHECK(error.location.column == 19);
  CHECK(error.message ==
        "cluster 'prod' was applied with vm_size Standard_D3_v2; a cluster's VM size cannot "
        "change in place, only its agent_count. Create a new cluster (a new name) with the new "
        "size and move the endpoints to it");
}

TEST_CASE("plan: a cluster's agent_count changes in place") {
  const Desired before = RenderFaq(kOneVersion).Desire(ExecutorKind::Local);
  const testing::Rendered rendered = RenderFaq(kOneVersion, "agent_count: 3", "agent_count: 5");
  const Planned planned = PlanOf(rendered, rendered.Desire(ExecutorKind::Local), Applied(before));
  CHECK_FALSE(planned.sink.HasErrors());
  REQUIRE(Steps(planned.plan) == std::vector<std::string>{"update cluster.prod"});
  REQUIRE(planned.plan.actions[0].changes.size() == 1);
  const FieldChange& change = planned.plan.actions[0].changes[0];
  CHECK(change.field == "agent_count");
  CHECK(change.before == "3");
  CHECK(change.after == "5");
}

TEST_CASE("plan: a tainted resource is replaced, saying why") {
  const testing::Rendered rendered = RenderFaq(kOneVersion);
  const Desired desired = rendered.Desire(ExecutorKind::Local);
  State state = Applied(desired);
  state.Find("version.faq.a")->tainted = true;
  const Planned planned = PlanOf(rendered, desired, state);
  REQUIRE(Steps(planned.plan) == std::vector<std::string>{"replace version.faq.a"});
  CHECK(planned.plan.actions[0].reason == "tainted: it failed during the last apply");
  CHECK(planned.plan.actions[0].changes.empty());
}

TEST_CASE("plan: new bundle content replaces the bundle and the version that runs it") {
  const testing::Rendered rendered = RenderFaq(kOneVersion);
  const Desired desired = rendered.Desire(ExecutorKind::Local);
  State state = Applied(desired);
  const std::string old_sha = "\"" + std::string(64, 'a') + "\"";
  state.Find("bundle.faq.a")->attributes["sha256"] = old_sha;
  state.Find("version.faq.a")->attributes["bundle"] = old_sha;
  state.Find("version.faq.a")->hash = "stale";
  const Planned planned = PlanOf(rendered, desired, state);
  REQUIRE(Steps(planned.plan) ==
          std::vector<std::string>{"replace bundle.faq.a", "replace version.faq.a"});
  CHECK(planned.plan.actions[0].reason == "new bundle content");
  CHECK(planned.plan.actions[1].reason ==
        "the bundle changed: the new revision starts beside the old one and takes over once "
        "ready");
  REQUIRE(planned.plan.actions[1].changes.size() == 1);
  CHECK(planned.plan.actions[1].changes[0].field == "bundle");
  CHECK(planned.plan.actions[1].changes[0].before == old_sha);
  CHECK(planned.plan.actions[1].changes[0].forces_replacement);
}

TEST_CASE("plan: a Deployment's selector cannot change in place; other fields can") {
  const testing::Rendered rendered = RenderSample("faq-matching");
  const Desired desired = rendered.Desire(ExecutorKind::Kubernetes);
  State state = Applied(desired);
  ResourceState* deployment = state.Find("object.prod.Deployment.faq-live");
  REQUIRE(deployment != nullptr);
  deployment->attributes["spec.selector.matchLabels.app.kubernetes.io/instance"] = "\"old\"";
  deployment->attributes["spec.replicas"] = "1";
  state.Find("object.prod.Service.faq-live")->attributes["spec.selector.extra"] = "\"x\"";
  const Planned planned = PlanOf(rendered, desired, state);
  REQUIRE(Steps(planned.plan) == std::vector<std::string>{"replace object.prod.Deployment.faq-live",
                                                          "update object.prod.Service.faq-live"});
  const Action& replace = planned.plan.actions[0];
  REQUIRE(replace.changes.size() == 2);
  CHECK(replace.changes[0].field == "spec.replicas");
  CHECK_FALSE(replace.changes[0].forces_replacement);
  CHECK(replace.changes[1].field == "spec.selector.matchLabels.app.kubernetes.io/instance");
  CHECK(replace.changes[1].forces_replacement);
  // A field only the state has is a change to "absent".
  const Action& update = planned.plan.actions[1];
  REQUIRE(update.changes.size() == 1);
  CHECK(update.changes[0].before == "\"x\"");
  CHECK_FALSE(update.changes[0].after.has_value());
}

TEST_CASE("plan: a state of another project or executor is E0902") {
  const testing::Rendered rendered = RenderFaq(kOneVersion);
  const Desired desired = rendered.Desire(ExecutorKind::Local);
  SUBCASE("another project") {
    State state = Applied(desired);
    state.project = "billing";
    const Planned planned = PlanOf(rendered, desired, state);
    CHECK_FALSE(planned.plan.HasChanges());
    REQUIRE(planned.sink.diagnostics().size() == 1);
    const diag::Diagnostic& error = planned.sink.diagnostics()[0];
    CHECK(error.code == diag::Code::kStateOfAnotherProject);
    CHECK(error.location.line == 2);
    CHECK(error.message ==
          "the recorded state here belongs to project 'billing' (executor local), but this "
          "manifest is project 'faq-matching' (executor local); nothing is planned against it. "
          "Use another folder for this project, or run `ferry destroy` with the old project's "
          "manifest first");
  }
  SUBCASE("another executor") {
    State state = Applied(desired);
    state.executor = "kubernetes";
    const Planned planned = PlanOf(rendered, desired, state);
    CHECK_FALSE(planned.plan.HasChanges());
    REQUIRE(planned.sink.diagnostics().size() == 1);
    CHECK(planned.sink.diagnostics()[0].code == diag::Code::kStateOfAnotherProject);
  }
}

TEST_CASE("plan: ToString and counts") {
  CHECK(ToString(ActionKind::Create) == "create");
  CHECK(ToString(ActionKind::Update) == "update");
  CHECK(ToString(ActionKind::Replace) == "replace");
  CHECK(ToString(ActionKind::Delete) == "delete");
  Plan plan;
  for (ActionKind kind : {ActionKind::Delete, ActionKind::Create, ActionKind::Delete}) {
    plan.actions.emplace_back().kind = kind;
  }
  CHECK(plan.Counts(ActionKind::Delete) == 2);
  CHECK(plan.Counts(ActionKind::Update) == 0);
  CHECK(SummaryLine(plan) == "Plan: 1 to create, 0 to update, 0 to replace, 2 to delete.");
}

}  // namespace
}  // namespace ferry::plan
