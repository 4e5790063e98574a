// Validates the chart's custom resources, which kubernetes-validate has no schemas for, with the
// models of the npm packages @kubernetes-models/gateway-api and @kubernetes-models/prometheus-operator
// (types, required fields, patterns; unknown fields are not refused). Reads a JSON array of
// objects; exits 1 naming each invalid one. Usage: node validate-custom-resources.mjs TOOLS FILE
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [tools, file] = process.argv.slice(2);
// Imported by path: the packages' export maps are for bundlers, and the tool cache is not on
// this script's module path.
const model = async (pkg, path, name) =>
  (await import(pathToFileURL(`${tools}/node_modules/@kubernetes-models/${pkg}/${path}.js`).href))[name];
const models = {
  GRPCRoute: await model("gateway-api", "gateway.networking.k8s.io/v1/GRPCRoute", "GRPCRoute"),
  ServiceMonitor: await model("prometheus-operator", "monitoring.coreos.com/v1/ServiceMonitor", "ServiceMonitor"),
};
let invalid = 0;
for (const object of JSON.parse(readFileSync(file, "utf8"))) {
  const Model = models[object.kind];
  if (!Model) {
    console.log(`ERROR ${object.kind} ${object.metadata.name}: no model for this kind`);
    invalid++;
    continue;
  }
  try {
    new Model(object).validate();
  } catch (error) {
    console.log(`ERROR ${object.kind} ${object.metadata.name}: ${error.message}`);
    invalid++;
  }
}
process.exit(invalid ? 1 : 0);
