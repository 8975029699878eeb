/**
 * Code-defined tools are listed from tools/listings/<family>.json (written by deno task generate;
 * tests/unit/generated_sql_test.ts fails when it is stale). Here: what that file holds is what zod
 * gives for each definition, a listed tool is served byte for byte as its definition would be,
 * and its first call imports its family and runs the code.
 */
import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import { z } from "zod";
import { ALL_FAMILIES } from "../../supabase/functions/mcp-tools-server/tools/all_families.ts";
import { ToolCatalog } from "../../supabase/functions/mcp-tools-server/tools/catalog.ts";
import type {
  LazyFamily,
  ToolDefinition,
} from "../../supabase/functions/mcp-tools-server/tools/contract.ts";
import { FAMILIES } from "../../supabase/functions/mcp-tools-server/tools/registry.ts";
import { serverBuilder } from "../../supabase/functions/mcp-tools-server/mcp/mcp_lite_server.ts";
import { silentLogger } from "../../supabase/functions/mcp-tools-server/lib/log.ts";
import type { ToolServices } from "../../supabase/functions/mcp-tools-server/tools/contract.ts";

const codeTools = ALL_FAMILIES.filter((f) => Array.isArray(f)).flat() as ToolDefinition[];
const rows = codeTools.map((tool) => ({
  name: tool.name,
  family: tool.family,
  version: 1,
  description: `${tool.description} (as an admin worded it)`,
  definition: null,
}));

Deno.test("listings: the generated files hold zod's JSON Schemas of every code tool", async () => {
  const listed = new Map(
    await Promise.all(FAMILIES.map(async (f) => [f.family, await f.listed?.()] as const)),
  );
  ok(codeTools.length > 10);
  for (const tool of codeTools) {
    const listing = listed.get(tool.family)?.[tool.name];
    ok(listing, `${tool.family}/${tool.name} is not in tools/listings/${tool.family}.json`);
    deepStrictEqual(
      listing.inputSchema,
      tool.inputJsonSchema ?? { ...z.toJSONSchema(tool.input, { io: "input" }) },
      `${tool.name}: input schema`,
    );
    deepStrictEqual(
      listing.outputSchema,
      tool.output ? { ...z.toJSONSchema(tool.output, { io: "output" }) } : undefined,
      `${tool.name}: output schema`,
    );
    equal(listing.title, tool.title);
    deepStrictEqual(listing.annotations, tool.annotations);
    deepStrictEqual(listing.requiredClientCapabilities, tool.requiredClientCapabilities);
  }
});

const deps = {
  services: {} as ToolServices,
  log: silentLogger,
  serverInfo: { name: "t", version: "0" },
};

Deno.test("listings: a listed tool is served exactly as its definition, without its family", async () => {
  const imported: string[] = [];
  const lazy: LazyFamily[] = FAMILIES.map((f) => ({
    ...f,
    load: () => {
      imported.push(f.family);
      return f.load();
    },
  }));
  const listedCatalog = new ToolCatalog(lazy);
  await listedCatalog.load(rows);
  const listed = listedCatalog.toolSet(rows).toolSet;
  const direct = new ToolCatalog(ALL_FAMILIES).toolSet(rows).toolSet;
  deepStrictEqual(listed.names, direct.names);
  equal(listed.fingerprint, direct.fingerprint);
  deepStrictEqual(listed.leftOut, []);
  const fromListing = serverBuilder(deps)(listed);
  const fromCode = serverBuilder(deps)(direct);
  for (const name of listed.names) {
    const a = fromListing.tool(name) as unknown as { listing: string; mirroredParams: unknown };
    const b = fromCode.tool(name) as unknown as { listing: string; mirroredParams: unknown };
    equal(a.listing, b.listing, `${name}: listing`);
    deepStrictEqual(a.mirroredParams, b.mirroredParams, `${name}: mirrored params`);
    deepStrictEqual(
      fromListing.tool(name)!.definition.requiredClientCapabilities,
      fromCode.tool(name)!.definition.requiredClientCapabilities,
      `${name}: required client capabilities`,
    );
  }
  deepStrictEqual(imported, [], "listing tools imported a family");

  // The first call's implementation is the family's own definition.
  const echo = listed.tools.find((tool) => tool.name === "echo")!;
  const code = await echo.implementation!();
  deepStrictEqual(imported, ["builtin"]);
  equal(code, codeTools.find((tool) => tool.name === "echo"));
  equal(await echo.implementation!(), code);
  deepStrictEqual(imported, ["builtin"], "a family is imported once");
});

Deno.test("listings: read by load(); an unknown tool is left out; a failed import is retried", async () => {
  let attempts = 0;
  const catalog = new ToolCatalog([{
    family: "builtin",
    listed: FAMILIES.find((f) => f.family === "builtin")!.listed,
    load: () => {
      attempts++;
      return attempts === 1 ? Promise.reject(new Error("network")) : FAMILIES[0].load();
    },
  }]);
  const rows = [
    { name: "echo", family: "builtin", version: 1, description: "Echo.", definition: null },
    { name: "nope", family: "builtin", version: 1, description: "Nope.", definition: null },
  ];
  deepStrictEqual(catalog.toolSet(rows).problems, [
    "echo: the builtin family is not loaded",
    "nope: the builtin family is not loaded",
  ], "before load(): its listings are not read yet");
  await catalog.load(rows);
  equal(attempts, 0, "load() reads the listings, not the family");
  const { toolSet, problems } = catalog.toolSet(rows);
  deepStrictEqual(toolSet.names, ["echo"]);
  deepStrictEqual(problems, ["nope: no builtin tool of this name in this deployment"]);
  await rejects(toolSet.tools[0].implementation!(), /network/);
  equal((await toolSet.tools[0].implementation!()).name, "echo");
  equal(attempts, 2);
});
