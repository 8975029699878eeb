import { deepStrictEqual, equal, notEqual, throws } from "node:assert/strict";
import { z } from "zod";
import { loadConfig, loadSupabaseAccess } from "../supabase/functions/mcp-tools-server/config.ts";
import { ToolCatalog } from "../supabase/functions/mcp-tools-server/tools/catalog.ts";
import { defineTool } from "../supabase/functions/mcp-tools-server/tools/types.ts";

Deno.test("catalog: a tool set is sorted, deduplicated and limited to known tools", () => {
  const catalog = new ToolCatalog();
  const { toolSet, unknown } = catalog.toolSet(["tenant_info", "echo", "echo", "no_such_tool"]);
  deepStrictEqual(toolSet.names, ["echo", "tenant_info"]);
  deepStrictEqual(unknown, ["no_such_tool"]);
  equal(catalog.toolSet(["echo", "tenant_info"]).toolSet.fingerprint, toolSet.fingerprint);
  notEqual(catalog.toolSet(["echo"]).toolSet.fingerprint, toolSet.fingerprint);
  deepStrictEqual(catalog.toolSet([]).toolSet.names, []);
});

Deno.test("catalog: a family is a list of definitions; names must be unique", () => {
  const tool = (name: string) =>
    defineTool({
      name,
      family: "extra",
      description: name,
      input: z.object({}),
      run: () => ({ content: [] }),
    });
  const catalog = new ToolCatalog([[tool("a")], [tool("b")]]);
  deepStrictEqual(catalog.toolSet(["b", "a"]).toolSet.names, ["a", "b"]);
  throws(() => new ToolCatalog([[tool("a")], [tool("a")]]), /defined twice/);
});

Deno.test("config: defaults, environment overrides, and refusal of bad numbers", () => {
  const env = (values: Record<string, string>) => (name: string) => values[name];
  equal(loadConfig(env({})).tenantCacheTtlMs, 30_000);
  equal(loadConfig(env({ TENANT_CACHE_TTL_MS: "500" })).tenantCacheTtlMs, 500);
  throws(() => loadConfig(env({ SERVER_CACHE_MAX: "lots" })), /SERVER_CACHE_MAX/);
  equal(loadConfig(env({})).metricsToken, undefined);
  equal(loadConfig(env({ MCP_METRICS_TOKEN: "t" })).metricsToken, "t");
});

Deno.test("config: the service key comes from SUPABASE_SECRET_KEYS or SUPABASE_SERVICE_ROLE_KEY", () => {
  const env = (values: Record<string, string>) => (name: string) => values[name];
  const url = "https://ref.supabase.co";
  equal(
    loadSupabaseAccess(env({ SUPABASE_URL: url, SUPABASE_SERVICE_ROLE_KEY: "jwt" })).key,
    "jwt",
  );
  equal(
    loadSupabaseAccess(
      env({
        SUPABASE_URL: url,
        SUPABASE_SECRET_KEYS: '{"default":"sb_secret_x"}',
        SUPABASE_SERVICE_ROLE_KEY: "jwt",
      }),
    ).key,
    "sb_secret_x",
  );
  throws(() => loadSupabaseAccess(env({ SUPABASE_URL: url })), /SUPABASE_SERVICE_ROLE_KEY/);
  throws(() => loadSupabaseAccess(env({})), /SUPABASE_URL/);
});

Deno.test("dependencies: the function and the project pin the same versions", async () => {
  const read = async (path: string) =>
    JSON.parse(await Deno.readTextFile(new URL(path, import.meta.url))).imports as Record<
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
