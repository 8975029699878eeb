import { dirname, join } from "node:path";

const ROOT = dirname(dirname(import.meta.dirname!));

/** Cluster, logs and dev.json of `deno task dev`; MCP_DEV_HOME moves them. */
export function devHome(): string {
  return Deno.env.get("MCP_DEV_HOME") ?? join(ROOT, ".local");
}

/** What `deno task dev` writes for other tools: URLs and keys of the running local stack. */
export function devJsonPath(): string {
  return join(devHome(), "dev.json");
}
