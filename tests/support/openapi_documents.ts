/**
 * Real OpenAPI documents that npm packages ship, as files on disk (the importer reads files):
 * GitHub's REST API (3.0, JSON, 1,200+ operations), Scalar's Galaxy (3.1, YAML, every security
 * scheme type), and from ReadMe's examples the Swagger Petstore (3.0, YAML, form and multipart
 * bodies) and Bump.sh's Train Travel API (3.1, YAML, OAuth 2).
 */
import { createRequire } from "node:module";
// Static imports make sure each package is downloaded before its files are looked up.
import "@octokit/openapi/package.json" with { type: "json" };
import "@readme/oas-examples/package.json" with { type: "json" };
import "@scalar/galaxy/latest.json" with { type: "json" };

const require = createRequire(import.meta.url);

export const DOCUMENTS = {
  github: require.resolve("@octokit/openapi/generated/api.github.com.json"),
  galaxy: require.resolve("@scalar/galaxy/latest.yaml"),
  petstore: require.resolve("@readme/oas-examples/3.0/yaml/petstore.yaml"),
  trainTravel: require.resolve("@readme/oas-examples/3.1/yaml/train-travel.yaml"),
};
