// Validates rendered Kubernetes objects with the npm package kubernetes-models,
// for clusters newer than the test API server (Kubernetes 1.20): each object is
// loaded with the class of its apiVersion and kind and validate() is called
// (the JSON schema of that Kubernetes release, or of Gateway API for HTTPRoute).
// kubernetes-models checks types, required fields and formats but not object
// names or labels, so the API server's metadata rules (DNS-1123 names,
// qualified label keys, label values) are checked here too.
//
// usage: node validate_models.mjs FILE_OR_FOLDER...
//          every *.yaml file must hold exactly one object; exit 1 on any rejection
//        node validate_models.mjs --cluster-versions MANIFEST
//          prints "<cluster> <kubernetes_version>" per cluster of a ferry.yaml
//
// The packages are installed by install_node_deps.sh into
// <repo>/.cache/node/node_modules (FERRY_NODE_MODULES overrides).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const modulesDir =
  process.env.FERRY_NODE_MODULES ?? join(repoRoot, ".cache", "node", "node_modules");

// API groups whose models live in a package other than kubernetes-models.
const packageOfGroup = new Map([["gateway.networking.k8s.io", "@kubernetes-models/gateway-api"]]);
const requiredPackages = ["kubernetes-models", "@kubernetes-models/gateway-api", "yaml"];

function fail(message) {
  console.error(`validate_models: ${message}`);
  process.exit(2);
}

for (const name of requiredPackages) {
  if (!existsSync(join(modulesDir, name, "package.json"))) {
    fail(`npm package ${name} is not installed in ${modulesDir}; ` +
      "run tests/render/install_node_deps.sh");
  }
}
const YAML = await import(pathToFileURL(join(modulesDir, "yaml", "dist", "index.js")).href);

function parseDocuments(path) {
  const documents = YAML.parseAllDocuments(readFileSync(path, "utf8"));
  for (const document of documents) {
    if (document.errors.length > 0) throw new Error(`not YAML: ${document.errors[0].message}`);
  }
  return documents.map((document) => document.toJS()).filter((value) => value !== null);
}

// apimachinery's rules (k8s.io/apimachinery/pkg/util/validation).
const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const qualifiedNamePart = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
// Kinds whose names must be DNS-1123 labels (apimachinery's path-segment
// rule for the others is weaker than a subdomain, which is what ferry writes).
const labelNamedKinds = new Set(["Namespace", "Service"]);

function metadataErrors(object) {
  const errors = [];
  const metadata = object.metadata ?? {};
  const name = metadata.name;
  if (typeof name !== "string" || name === "") {
    errors.push("metadata.name is missing");
  } else if (labelNamedKinds.has(object.kind)) {
    if (name.length > 63 || !dns1123Label.test(name)) {
      errors.push(`metadata.name "${name}" is not a DNS-1123 label`);
    }
  } else if (name.length > 253 || !dns1123Subdomain.test(name)) {
    errors.push(`metadata.name "${name}" is not a DNS-1123 subdomain`);
  }
  if (metadata.namespace !== undefined && !dns1123Label.test(metadata.namespace)) {
    errors.push(`metadata.namespace "${metadata.namespace}" is not a DNS-1123 label`);
  }
  const checkLabels = (labels, where) => {
    for (const [key, value] of Object.entries(labels ?? {})) {
      const slash = key.lastIndexOf("/");
      const prefix = slash >= 0 ? key.slice(0, slash) : null;
      const namePart = slash >= 0 ? key.slice(slash + 1) : key;
      if (prefix !== null && (prefix.length > 253 || !dns1123Subdomain.test(prefix))) {
        errors.push(`${where}: label key "${key}" has an invalid prefix`);
      }
      if (namePart.length > 63 || !qualifiedNamePart.test(namePart)) {
        errors.push(`${where}: label key "${key}" is not a qualified name`);
      }
      if (typeof value !== "string" || value.length > 63 || !labelValue.test(value)) {
        errors.push(`${where}: label value ${JSON.stringify(value)} of "${key}" is invalid`);
      }
    }
  };
  checkLabels(metadata.labels, "metadata.labels");
  checkLabels(object.spec?.template?.metadata?.labels, "spec.template.metadata.labels");
  return errors;
}

async function modelClass(apiVersion, kind) {
  const slash = apiVersion.indexOf("/");
  const group = slash >= 0 ? apiVersion.slice(0, slash) : "";
  const packageName = packageOfGroup.get(group) ?? "kubernetes-models";
  // The core group's models are under "v1"; the others under "<group>/<version>".
  const file = join(modulesDir, packageName, apiVersion, `${kind}.js`);
  if (!existsSync(file)) return null;
  const module = await import(pathToFileURL(file).href);
  return module[kind] ?? null;
}

async function validateFile(path) {
  let objects;
  try {
    objects = parseDocuments(path);
  } catch (error) {
    return [error.message];
  }
  if (objects.length !== 1) return [`holds ${objects.length} objects; ferry writes one per file`];
  const object = objects[0];
  if (typeof object.apiVersion !== "string" || typeof object.kind !== "string") {
    return ["apiVersion or kind is missing"];
  }
  const Model = await modelClass(object.apiVersion, object.kind);
  if (Model === null) return [`no model for ${object.apiVersion} ${object.kind}`];
  const errors = metadataErrors(object);
  try {
    new Model(object).validate();
  } catch (error) {
    errors.push(error.message);
  }
  return errors;
}

function yamlFilesUnder(path) {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((entry) => yamlFilesUnder(join(path, entry)))
    .filter((file) => file.endsWith(".yaml") || file.endsWith(".yml"));
}

async function main(args) {
  if (args[0] === "--cluster-versions") {
    if (args.length !== 2) fail("usage: --cluster-versions MANIFEST");
    const [manifest] = parseDocuments(args[1]);
    for (const [name, cluster] of Object.entries(manifest?.clusters ?? {})) {
      console.log(`${name} ${cluster?.kubernetes_version ?? "none"}`);
    }
    return 0;
  }
  if (args.length === 0) fail("usage: validate_models.mjs FILE_OR_FOLDER...");
  const files = args.flatMap((arg) => {
    if (!existsSync(arg)) fail(`${arg}: no such file or folder`);
    return yamlFilesUnder(arg);
  });
  if (files.length === 0) fail(`no YAML files in ${args.join(" ")}`);
  let rejected = 0;
  for (const file of files) {
    const errors = await validateFile(file);
    if (errors.length > 0) {
      rejected += 1;
      for (const error of errors) console.log(`${file}: rejected: ${error}`);
    }
  }
  console.log(`kubernetes-models: ${files.length - rejected} of ${files.length} objects valid`);
  return rejected === 0 ? 0 : 1;
}

process.exit(await main(process.argv.slice(2)));
