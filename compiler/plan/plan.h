// A plan: the actions that take the recorded state to the desired resources,
// in the order apply executes them. Pure. Also the saved plan file
// (`ferry plan -out FILE`) and the text and JSON printers (docs/plan.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/diag/diagnostic.h"
#include "compiler/ir/project.h"
#include "compiler/plan/resources.h"
#include "compiler/plan/state.h"

namespace ferry::plan {

enum class ActionKind { Create, Update, Replace, Delete };
auto ToString(ActionKind kind) -> std::string_view;  ///< "create" | "update" | "replace" | "delete"

/// One attribute that differs; an unset side means the field is absent there.
struct FieldChange {
  std::string field;
  std::optional<std::string> before;  ///< canonical JSON
  std::optional<std::string> after;
  bool forces_replacement = false;
};

struct Action {
  ActionKind kind = ActionKind::Create;
  std::string address;
  std::string type;
  std::vector<FieldChange> changes;  ///< sorted by field; empty for create and delete
  /// Why a replace is a replace ("bundle sha256 changed: the new build starts
  /// beside the old one", "tainted: failed its readiness check"); empty otherwise.
  std::string reason;
  std::optional<Resource> desired;     ///< unset for delete
  std::optional<ResourceState> prior;  ///< unset for create
};

struct Plan {
  std::string project;
  std::string executor;
  std::string state_lineage;        ///< empty: no state yet
  std::int64_t state_serial = 0;
  std::string inputs_sha256;        ///< Desired::inputs_sha256
  /// Creates, updates and replaces in dependency order, then deletes in
  /// reverse dependency order.
  std::vector<Action> actions;

  auto Counts(ActionKind kind) const -> std::size_t;
  auto HasChanges() const -> bool { return !actions.empty(); }
};

/// Compares `desired` with `state` (which may be empty). Rules that make a
/// change impossible are errors in `sink`, at the manifest's place:
/// a cluster's vm_size cannot change in place (E0901), a cluster recorded
/// in state becoming detached while endpoints still deploy to it is E0309's
/// business (check). A state of another project or executor is E0902.
auto MakePlan(const ir::Project& project, const Desired& desired, const State& state,
              diag::Sink& sink) -> Plan;

/// "Plan: 2 to create, 1 to update, 0 to replace, 1 to delete." (all zeros
/// when there are none; FormatPlanText then says "No changes. ...").
auto SummaryLine(const Plan& plan) -> std::string;

/// Terraform-like text: one block per action ("+ create", "~ update" with
/// "field: before -> after" lines, "-/+ replace (reason)", "- destroy"), then
/// the summary line. `color`: ANSI colors.
auto FormatPlanText(const Plan& plan, bool color) -> std::string;

/// The stable JSON form (docs/plan.md): {"format_version": 1, "project", "executor",
/// "state": {"lineage", "serial"}, "inputs_sha256", "actions": [...],
/// "summary": {"create", "update", "replace", "delete"}}.
auto FormatPlanJson(const Plan& plan) -> std::string;

/// The saved plan file (`plan -out`): the JSON form plus "kind": "ferry-plan"
/// and the manifest path it was made from.
auto SerializePlanFile(const Plan& plan, std::string_view manifest_path) -> std::string;

struct PlanFile {
  Plan plan;
  std::string manifest_path;
};
/// Parses a saved plan; errors name the file (and line/column for bad JSON).
auto ParsePlanFile(std::string_view text, std::string_view file, PlanFile& out)
    -> std::optional<StateError>;

/// Why a saved plan may not be applied now, or nullopt when it may: the
/// state's lineage or serial moved ("the state changed since the plan was
/// made (serial 4, now 5): run `ferry plan` again"), or the inputs did.
auto StalePlanReason(const Plan& saved, const Desired& desired_now, const State& state_now)
    -> std::optional<std::string>;

}  // namespace ferry::plan
