/**
 * What start-up loads: the modules index.ts imports statically, read from Deno's own module graph.
 * Tool families are imported when a tenant's tools first need them, and nothing heavy the first
 * request doesn't need (supabase-js's other clients, node:crypto, node:dns, jose for user tokens,
 * the remote MCP client, re2js for HTTP tools) is on the start-up path. `deno task build` keeps
 * that split: what is imported dynamically here lands in chunks a fresh worker does not load.
 */
import { deepStrictEqual, ok } from "node:assert/strict";

const ENTRY = "supabase/functions/mcp-tools-server/index.ts";

interface Dependency {
  specifier: string;
  isDynamic?: boolean;
  code?: { specifier?: string };
}
interface Module {
  specifier: string;
  dependencies?: Dependency[];
}

async function graph(): Promise<{ roots: string[]; modules: Map<string, Module> }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", ENTRY],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  ok(out.success, "deno info failed");
  const info = JSON.parse(new TextDecoder().decode(out.stdout));
  const redirects: Record<string, string> = info.redirects ?? {};
  const modules = new Map<string, Module>();
  for (const m of info.modules as Module[]) modules.set(m.specifier, m);
  const roots = (info.roots as string[]).map((r) => redirects[r] ?? r);
  return { roots, modules };
}

/** Every module reachable from the roots through static imports only. */
function staticClosure(roots: string[], modules: Map<string, Module>): Set<string> {
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length) {
    const specifier = queue.pop()!;
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    for (const dep of modules.get(specifier)?.dependencies ?? []) {
      const target = dep.code?.specifier;
      if (target && !dep.isDynamic) queue.push(target);
    }
  }
  return seen;
}

Deno.test("start-up imports no tool family, no supabase-js and no node:crypto", async () => {
  const { roots, modules } = await graph();
  const loaded = [...staticClosure(roots, modules)];
  const families = loaded.filter((s) => /\/tools\/(builtin|conformance|crm\/|http\/)/.test(s));
  deepStrictEqual(families, [], "tool families must be imported lazily (tools/registry.ts)");
  deepStrictEqual(loaded.filter((s) => s.includes("supabase-js") || s === "node:crypto"), []);
});

Deno.test("start-up imports none of what only some requests need", async () => {
  const { roots, modules } = await graph();
  const loaded = [...staticClosure(roots, modules)];
  const lazy: [string, RegExp][] = [
    ["node:dns (first upstream call, upstream/guarded_fetch.ts)", /^node:dns/],
    ["jose (first user token, auth/user_token.ts)", /\/jose@/],
    [
      "the remote MCP client (first remote server, compose.ts)",
      /@modelcontextprotocol|\/tools\/remote\//,
    ],
    ["re2js (HTTP tools' family)", /\/re2js@/],
    // Configuration and lookups are read with plain checks; tools are listed from their generated
    // listings (tools/listing.ts); a tool's first call imports zod with its family.
    ["zod (first tools/call)", /\/zod@/],
    ["mcp-lite (first tools/call, mcp/mcp_lite_server.ts)", /\/mcp-lite@/],
    ["the guarded fetch and address policy (first upstream call, compose.ts)", /\/upstream\//],
    ["Hono (first routed request, http/app.ts)", /\/hono@/],
  ];
  for (const [what, pattern] of lazy) {
    deepStrictEqual(
      loaded.filter((s) => pattern.test(s)),
      [],
      `${what} must be loaded on first use`,
    );
  }
});

Deno.test("every tool family is still in the deployed module graph, as a dynamic import", async () => {
  const { modules } = await graph();
  const registry = [...modules.values()].find((m) => m.specifier.endsWith("/tools/registry.ts"));
  const dynamic = (registry?.dependencies ?? []).filter((d) => d.isDynamic).map((d) => d.specifier);
  deepStrictEqual(dynamic.sort(), [
    "./builtin.ts",
    "./conformance.ts",
    "./crm/tools.ts",
    "./http/family.ts",
    // Code families' listings (tools/listing.ts), read when a tenant first has one of their tools.
    "./listings/builtin.json",
    "./listings/conformance.json",
    "./listings/crm.json",
  ]);
  for (const name of ["builtin.ts", "conformance.ts", "crm/tools.ts", "http/family.ts"]) {
    ok([...modules.keys()].some((s) => s.endsWith(`/tools/${name}`)), `${name} not in the graph`);
  }
});
