/**
 * The deployed artefact (`deno task build`) keeps the start-up split of index.ts: what a fresh
 * worker reads — index.js and the chunks it imports statically — holds none of what only some
 * requests need, and those parts are still in the build, in chunks imported on first use. Told
 * apart by strings minification keeps: error codes, class names, specifiers.
 */
import { deepStrictEqual, ok } from "node:assert/strict";
import { join } from "node:path";
import { buildFunction } from "../../scripts/build.ts";

const LAZY: [string, string][] = [
  ["jose (user tokens)", "ERR_JWKS_NO_MATCHING_KEY"],
  ["the remote MCP client", "StreamableHTTPClientTransport"],
  ["re2js (HTTP tools)", "RE2JS"],
  // Its code, not its listing (tools are listed from tools/listings/builtin.json).
  ["the builtin family", "Returns the given text unchanged"],
  // zod: the first request lists tools from their generated listings and reads the lookup's
  // answer with plain checks; the first tools/call imports it with the tool's family.
  ["zod", "ZodError"],
  // Each code family's listings: read when a tenant first has one of its tools.
  ["the crm family's listings", "Get this one record (archived or not)."],
  // mcp-lite runs tool calls only; the front answers everything else itself.
  ["mcp-lite", "Elicitation not supported by client"],
  ["the upstream address policy", "cloud metadata services live there"],
  // Hono: the routed paths (health, preflights, browsers); an MCP POST from an agent skips it.
  ["Hono", "Context is not finalized"],
];

/** Every file index.js reaches through static imports, with its text. */
async function startupFiles(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const queue = ["index.js"];
  while (queue.length) {
    const name = queue.pop()!;
    if (files.has(name)) continue;
    const text = await Deno.readTextFile(join(dir, name));
    files.set(name, text);
    for (const [, target] of text.matchAll(/(?:from|import)\s*"\.\/([^"]+)"/g)) queue.push(target);
  }
  return files;
}

Deno.test("the build loads at start-up only what index.ts loads; the rest stays in lazy chunks", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mcp-build-test-" });
  try {
    await buildFunction(dir);
    const startup = await startupFiles(dir);
    const all = new Map<string, string>();
    for await (const entry of Deno.readDir(dir)) {
      all.set(entry.name, await Deno.readTextFile(join(dir, entry.name)));
    }
    ok(startup.size < all.size, "the build is split into chunks");
    const text = [...startup.values()].join("\n");
    for (const [what, marker] of LAZY) {
      ok(!text.includes(marker), `${what} is loaded at start-up`);
      ok([...all.values()].some((t) => t.includes(marker)), `${what} is missing from the build`);
    }
    // zod's locales stay out (every module imports zod as a namespace, `import * as z`, so the
    // bundler keeps only what is used; `import { z }` pulls in all of zod's ~250 locales, which
    // tripled the chunk a first tools/call loads). The German locale stands for all of them.
    ok(![...all.values()].some((t) => t.includes('unit:"Zeichen"')), "zod's locales are bundled");
    // node:dns only through a dynamic import, in the guarded fetch's lazy chunk.
    const everything = [...all.values()].join("\n");
    deepStrictEqual(everything.match(/(?:from|import)\s*"node:dns[^"]*"/g), null);
    ok(
      everything.includes('import("node:dns/promises")'),
      "the resolver imports node:dns on first use",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
