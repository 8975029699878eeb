import { ALL_FAMILIES as FAMILIES } from "../../supabase/functions/mcp-tools-server/tools/all_families.ts";
import { deepStrictEqual, equal, match, notEqual, throws } from "node:assert/strict";
import { z } from "zod";
import { loadConfig, supabaseAccess } from "../../supabase/functions/mcp-tools-server/config.ts";
import { builtinTools } from "../../supabase/functions/mcp-tools-server/tools/builtin.ts";
import { ToolCatalog } from "../../supabase/functions/mcp-tools-server/tools/catalog.ts";
import { defineTool } from "../../supabase/functions/mcp-tools-server/tools/contract.ts";

const row = (name: string, version = 1, family = "builtin", definition: unknown = null) => ({
  name,
  family,
  version,
  description: `${name} as the catalog describes it`,
  definition,
});

Deno.test("catalog: a tool set is sorted, deduplicated and fingerprinted by name@version", () => {
  const catalog = new ToolCatalog(FAMILIES);
  const { toolSet, problems } = catalog.toolSet([row("tenant_info"), row("echo"), row("echo")]);
  deepStrictEqual(toolSet.names, ["echo", "tenant_info"]);
  equal(toolSet.fingerprint, "echo@1,tenant_info@1");
  deepStrictEqual(problems, []);
  equal(
    catalog.toolSet([row("echo"), row("tenant_info")]).toolSet.fingerprint,
    "echo@1,tenant_info@1",
  );
  notEqual(catalog.toolSet([row("echo")]).toolSet.fingerprint, toolSet.fingerprint);
  notEqual(
    catalog.toolSet([row("echo", 2), row("tenant_info")]).toolSet.fingerprint,
    toolSet.fingerprint,
  );
  deepStrictEqual(catalog.toolSet([]).toolSet.names, []);
});

Deno.test("catalog: the served description is the catalog's; code supplies the rest", () => {
  const { toolSet } = new ToolCatalog(FAMILIES).toolSet([row("echo")]);
  equal(toolSet.tools[0].description, "echo as the catalog describes it");
  equal(toolSet.tools[0].name, "echo");
  equal(typeof toolSet.tools[0].run, "function");
});

Deno.test("catalog: rows this deployment can't serve are left out and reported", () => {
  const { toolSet, problems } = new ToolCatalog(FAMILIES).toolSet([
    row("echo"),
    row("no_such_tool"),
    row("echo_elsewhere", 1, "other"),
  ]);
  deepStrictEqual(toolSet.names, ["echo"]);
  // Left-out tools are part of the fingerprint: their server answers their calls with the reason.
  equal(toolSet.fingerprint, "echo@1,echo_elsewhere@1!,no_such_tool@1!");
  deepStrictEqual(toolSet.leftOut.map((t) => t.name), ["echo_elsewhere", "no_such_tool"]);
  equal(problems.length, 2);
  match(problems.join("\n"), /no_such_tool: no builtin tool/);
});

Deno.test("catalog: data-defined families build tools from their rows, once per version", () => {
  let builds = 0;
  const family = {
    family: "data",
    build: (r: { definition: unknown }) => {
      builds++;
      const text = (r.definition as { text?: unknown }).text;
      if (typeof text !== "string") throw new Error("definition.text must be a string");
      return defineTool({
        name: "ignored",
        family: "ignored",
        description: "ignored",
        input: z.object({}),
        run: () => ({ content: [{ type: "text", text }] }),
      });
    },
  };
  const catalog = new ToolCatalog([builtinTools, family]);
  const first = catalog.toolSet([row("say_hi", 1, "data", { text: "hi" })]).toolSet;
  equal(first.tools[0].name, "say_hi");
  equal(first.tools[0].family, "data");
  catalog.toolSet([row("say_hi", 1, "data", { text: "hi" })]);
  equal(builds, 1);
  catalog.toolSet([row("say_hi", 2, "data", { text: "hello" })]);
  equal(builds, 2);
  const bad = catalog.toolSet([row("broken", 1, "data", {})]);
  deepStrictEqual(bad.toolSet.names, []);
  match(bad.problems[0], /broken: definition.text must be a string/);
});

Deno.test("catalog: code tool names and data family names must be unique", () => {
  const tool = (name: string) =>
    defineTool({
      name,
      family: "extra",
      description: name,
      input: z.object({}),
      run: () => ({ content: [] }),
    });
  throws(() => new ToolCatalog([[tool("a")], [tool("a")]]), /defined twice/);
  const data = { family: "d", build: () => tool("x") };
  throws(() => new ToolCatalog([data, data]), /defined twice/);
});

Deno.test("config: defaults, environment overrides, and refusal of bad numbers", () => {
  const env = (values: Record<string, string>) => (name: string) => values[name];
  equal(loadConfig(env({})).tenantCacheTtlMs, 30_000);
  equal(loadConfig(env({ TENANT_CACHE_TTL_MS: "500" })).tenantCacheTtlMs, 500);
  throws(() => loadConfig(env({ SERVER_CACHE_MAX: "lots" })), /SERVER_CACHE_MAX/);
  equal(loadConfig(env({})).metricsToken, undefined);
  equal(loadConfig(env({ MCP_METRICS_TOKEN: "t" })).metricsToken, "t");
});

const access = (env: (name: string) => string | undefined) => supabaseAccess(loadConfig(env));

Deno.test("config: the service key comes from SUPABASE_SECRET_KEYS or SUPABASE_SERVICE_ROLE_KEY", () => {
  const env = (values: Record<string, string>) => (name: string) => values[name];
  const url = "https://ref.supabase.co";
  equal(
    access(env({ SUPABASE_URL: url, SUPABASE_SERVICE_ROLE_KEY: "jwt" })).key,
    "jwt",
  );
  equal(
    access(
      env({
        SUPABASE_URL: url,
        SUPABASE_SECRET_KEYS: '{"default":"sb_secret_x"}',
        SUPABASE_SERVICE_ROLE_KEY: "jwt",
      }),
    ).key,
    "sb_secret_x",
  );
  throws(() => access(env({ SUPABASE_URL: url })), /SUPABASE_SERVICE_ROLE_KEY/);
  throws(() => access(env({})), /SUPABASE_URL/);
});

Deno.test("dependencies: the function and the project pin the same versions", async () => {
  const read = async (path: string) =>
    JSON.parse(await Deno.readTextFile(new URL(path, new URL("../", import.meta.url))))
      .imports as Record<
        string,
        string
      >;
  const fn = await read("../supabase/functions/mcp-tools-server/deno.json");
  const root = await read("../deno.json");
  for (const [name, spec] of Object.entries(root)) {
    if (name in fn) equal(spec, fn[name], `${name} is pinned differently`);
    equal(spec.startsWith("npm:"), true, `${name} must be an npm: specifier`);
  }
  for (const spec of Object.values(fn)) equal(spec.startsWith("npm:"), true);
});

Deno.test("catalog: a lazy family is imported once, when a tenant's rows first need it", async () => {
  let loads = 0;
  const catalog = new ToolCatalog([
    { family: "builtin", load: () => (loads++, Promise.resolve(builtinTools)) },
  ]);
  equal(loads, 0, "nothing is imported when the catalog is built");
  match(catalog.toolSet([row("echo")]).problems.join(), /the builtin family is not loaded/);
  await Promise.all([catalog.load([row("echo")]), catalog.load([row("tenant_info")])]);
  await catalog.load([row("echo")]);
  equal(loads, 1);
  deepStrictEqual(catalog.toolSet([row("echo")]).toolSet.names, ["echo"]);
});
