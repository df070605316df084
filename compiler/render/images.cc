#include "compiler/render/images.h"

#include <fmt/format.h>

#include <algorithm>

#include "compiler/support/sha256.h"
#include "compiler/support/value.h"

namespace ferry::render {
namespace {

// The version of the Dockerfile below. It is part of every environment's
// hash: a change to how images are built must change every image's tag.
constexpr std::int64_t kRecipe = 2;
// Model containers run as this unprivileged user and listen on this port.
constexpr std::int64_t kRunAsUser = 10001;
constexpr std::int64_t kModelPort = 5001;
// Characters of the image hash used as the tag: 64 bits, unique enough per repository.
constexpr std::size_t kTagLength = 16;

auto Strings(const std::vector<std::string>& items) -> Value {
  List list;
  for (const std::string& item : items) list.emplace_back(item);
  return Value(std::move(list));
}

auto Variables(const std::map<std::string, std::string>& variables) -> Value {
  Map map;
  for (const auto& [name, value] : variables) map.emplace(name, Value(value));
  return Value(std::move(map));
}

// "images/<environment>-<target>"; also the image's repository below "ferry/".
auto FolderName(const ResolvedEnvironment& environment) -> std::string {
  return fmt::format("{}-{}", environment.name, ir::ToString(environment.target));
}

auto ImageReference(std::string_view registry, std::string_view repository, std::string_view tag)
    -> std::string {
  return fmt::format("{}{}ferry/{}:{}", registry, registry.empty() ? "" : "/", repository, tag);
}

// A command in a Dockerfile's exec form: a JSON array, so no shell parses
// (or mis-quotes) the build flags.
auto ExecForm(std::initializer_list<std::string> words) -> std::string {
  List list;
  for (const std::string& word : words) list.emplace_back(word);
  return ToCanonicalJson(Value(std::move(list)));
}

auto JoinFlags(const std::vector<std::string>& flags) -> std::string {
  std::string joined;
  for (const std::string& flag : flags) joined += (joined.empty() ? "" : " ") + flag;
  return joined;
}

auto Dockerfile(const ResolvedEnvironment& environment, const std::string& folder) -> std::string {
  std::string out = fmt::format(
      "# Rendered by ferry from environment '{}' for target {}; do not edit.\n"
      "# One image per bundle, built from the render output folder;\n"
      "# {}/build.yaml lists each bundle's reference:\n"
      "#   docker build --file {}/Dockerfile \\\n"
      "#     --build-arg BUNDLE=bundles/<endpoint>-<version> --tag <reference> .\n"
      "\n"
      "# Compile the bundle (generated C++ and ferry's runtime) with CMake.\n"
      "FROM {} AS builder\n"
      "ARG BUNDLE\n"
      "COPY ${{BUNDLE}}/ /src/bundle/\n",
      environment.name, ir::ToString(environment.target), folder, folder,
      environment.builder_image);
  // Every bundle builds against the one copy of the runtime at OUT/runtime/.
  out += "COPY runtime/ /src/runtime/\n";
  List configure;
  for (const char* word :
       {"cmake", "-S", "/src/bundle", "-B", "/src/build", "-DCMAKE_BUILD_TYPE=Release"}) {
    configure.emplace_back(word);
  }
  configure.emplace_back("-DFERRY_RUNTIME_DIR=/src/runtime");
  if (!environment.build_flags.empty()) {
    configure.emplace_back("-DCMAKE_CXX_FLAGS=" + JoinFlags(environment.build_flags));
  }
  out += "RUN " + ToCanonicalJson(Value(std::move(configure))) + "\n";
  out += "RUN " + ExecForm({"cmake", "--build", "/src/build", "--parallel"}) + "\n";
  out += "RUN " + ExecForm({"cmake", "--install", "/src/build", "--prefix", "/opt/ferry"}) + "\n";
  out += fmt::format(
      "\n# Serve it from the environment's image, as an unprivileged user.\n"
      "FROM {} AS runtime\n",
      environment.base_image);
  // The environment's own steps run as root (they install packages), before USER.
  for (const std::string& step : environment.steps) out += step + "\n";
  for (const auto& [name, value] : environment.variables) {
    out += fmt::format("ENV {}={}\n", name, ToCanonicalJson(Value(value)));
  }
  out += fmt::format(
      "COPY --from=builder /opt/ferry/ /opt/ferry/\n"
      "USER {0}:{0}\n"
      "EXPOSE {1}\n"
      "ENTRYPOINT [\"/opt/ferry/bin/serve\"]\n"
      "CMD {2}\n",
      kRunAsUser, kModelPort, ExecForm({"--port", std::to_string(kModelPort)}));
  return out;
}

auto EnvironmentValue(const ResolvedEnvironment& environment) -> Value {
  Value value = Value::Object({
      {"name", environment.name},
      {"builtin", environment.builtin},
      {"target", ir::ToString(environment.target)},
      {"base_image", environment.base_image},
      {"builder_image", environment.builder_image},
      {"steps", Strings(environment.steps)},
      {"build_flags", Strings(environment.build_flags)},
      {"variables", Variables(environment.variables)},
  });
  if (environment.registry != nullptr) {
    value["base_registry"] = Value::Object({
        {"address", environment.registry->address},
        {"username", environment.registry->username},
        {"password_secret", environment.registry->password_secret},
    });
  }
  return value;
}

// Where the image is looked for, in order: the workspace's registry (where
// it is pushed), ferry's global registry, and last, built from the plan.
auto Lookup(const std::string& workspace_reference, const std::string& global_reference) -> Value {
  List lookup;
  if (!workspace_reference.empty()) {
    lookup.push_back(Value::Object({{"source", "workspace"}, {"reference", workspace_reference}}));
  }
  if (!global_reference.empty()) {
    lookup.push_back(Value::Object({{"source", "global"}, {"reference", global_reference}}));
  }
  lookup.push_back(Value::Object({{"source", "build"}}));
  return Value(std::move(lookup));
}

// One environment × target: its plan and the images built on it.
struct ImageGroup {
  ResolvedEnvironment environment;
  std::string sha256;
  List images;
};

}  // namespace

auto ResolveEnvironment(const ir::Project& project, const catalog::Catalog& catalog,
                        const ir::Endpoint& endpoint, const ir::Version& version)
    -> ResolvedEnvironment {
  ResolvedEnvironment resolved;
  resolved.target = endpoint.target;
  const std::string_view target = ir::ToString(endpoint.target);
  const catalog::TargetImages* images = catalog.FindTargetImages(target);
  if (images != nullptr) {
    resolved.base_image = images->base_image;
    resolved.builder_image = images->builder_image;
  }
  if (version.environment == ir::kNone) {
    resolved.name = fmt::format("builtin-{}", target);
    resolved.builtin = true;
    return resolved;
  }
  const ir::Environment& environment = project.environments[version.environment];
  resolved.name = environment.name;
  if (!environment.base_image.empty()) resolved.base_image = environment.base_image;
  resolved.steps = environment.steps;
  resolved.build_flags = environment.build_flags;
  resolved.variables = environment.variables;
  if (environment.registry) resolved.registry = &*environment.registry;
  return resolved;
}

auto EnvironmentHash(const ResolvedEnvironment& environment) -> std::string {
  const Value inputs = Value::Object({
      {"recipe", kRecipe},
      {"target", ir::ToString(environment.target)},
      {"base_image", environment.base_image},
      {"builder_image", environment.builder_image},
      {"steps", Strings(environment.steps)},
      {"build_flags", Strings(environment.build_flags)},
      {"variables", Variables(environment.variables)},
  });
  return support::Sha256Hex(ToCanonicalJson(inputs));
}

auto ImageHash(std::string_view environment_sha256, std::string_view bundle_sha256) -> std::string {
  return support::Sha256Hex(ToCanonicalJson(
      Value::Object({{"environment", environment_sha256}, {"bundle", bundle_sha256}})));
}

auto RenderImages(const ir::Project& project, const catalog::Catalog& catalog,
                  std::span<const BundleRef> bundles, diag::Sink& sink) -> RenderedImages {
  RenderedImages out;
  // Keyed by folder name, so the plans come out in a stable order.
  std::map<std::string, ImageGroup, std::less<>> groups;
  for (const BundleRef& bundle : bundles) {
    const auto endpoint = std::find_if(
        project.endpoints.begin(), project.endpoints.end(),
        [&bundle](const ir::Endpoint& candidate) { return candidate.name == bundle.endpoint; });
    if (endpoint == project.endpoints.end()) continue;
    const auto version = std::find_if(
        endpoint->versions.begin(), endpoint->versions.end(),
        [&bundle](const ir::Version& candidate) { return candidate.name == bundle.version; });
    if (version == endpoint->versions.end()) continue;

    ResolvedEnvironment environment = ResolveEnvironment(project, catalog, *endpoint, *version);
    const std::string folder = FolderName(environment);
    auto [group, created] = groups.try_emplace(folder);
    if (created) {
      group->second.sha256 = EnvironmentHash(environment);
      group->second.environment = std::move(environment);
    } else if (EnvironmentHash(environment) != group->second.sha256) {
      sink.Add(diag::Code::kRenderPathClash, version->origin.At("environment"),
               version->origin.PathOf("environment"),
               fmt::format("environment '{}' on target {} would share 'images/{}/' with a "
                           "different environment of the same name (names starting with "
                           "'builtin-' are taken by the built-in environments); version '{}' of "
                           "endpoint '{}' gets no image",
                           environment.name, ir::ToString(environment.target), folder,
                           version->name, endpoint->name));
      continue;
    }

    const std::string sha256 = ImageHash(group->second.sha256, bundle.sha256);
    const std::string tag = sha256.substr(0, kTagLength);
    const std::string reference = ImageReference(project.workspace.registry, folder, tag);
    const std::string& global = catalog.defaults().global_registry;
    const std::string global_reference =
        global.empty() ? "" : fmt::format("{}/{}:{}", global, folder, tag);
    group->second.images.push_back(Value::Object({
        {"endpoint", bundle.endpoint},
        {"version", bundle.version},
        {"bundle", bundle.directory},
        {"bundle_sha256", bundle.sha256},
        {"sha256", sha256},
        {"reference", reference},
        {"lookup", Lookup(project.workspace.registry.empty() ? "" : reference, global_reference)},
        {"build", Value::Object({{"context", "."},
                                 {"dockerfile", fmt::format("images/{}/Dockerfile", folder)},
                                 {"args", Value::Object({{"BUNDLE", bundle.directory}})},
                                 {"tag", reference}})},
    }));
    out.images.push_back(ImageRef{.endpoint = bundle.endpoint,
                                  .version = bundle.version,
                                  .environment = group->second.environment.name,
                                  .target = group->second.environment.target,
                                  .sha256 = sha256,
                                  .reference = reference});
  }

  for (auto& [folder, group] : groups) {
    const Value plan = Value::Object({
        {"environment", EnvironmentValue(group.environment)},
        {"environment_sha256", group.sha256},
        {"images", Value(std::move(group.images))},
    });
    out.files.push_back(
        RenderedFile{.path = fmt::format("images/{}/Dockerfile", folder),
                     .contents = Dockerfile(group.environment, "images/" + folder)});
    out.files.push_back(RenderedFile{.path = fmt::format("images/{}/build.yaml", folder),
                                     .contents = ToYaml(plan)});
  }
  return out;
}

}  // namespace ferry::render
