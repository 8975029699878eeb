/**
 * The deployed artefact: `deno task build`'s bundle, built here the same way, run as a function
 * process against the real stack and called like index.ts: tools listed and called, lazy tool
 * families included, errors still JSON with a code.
 */
import { deepStrictEqual, equal } from "node:assert/strict";
import { join } from "node:path";
import { buildFunction } from "../../scripts/build.ts";
import { tenantWithKey } from "../support/fixtures.ts";
import { callTool, listTools, post, toolNames } from "../support/mcp_client.ts";
import { stack } from "../support/stack.ts";

Deno.test("the bundle that deploys ship serves tools as index.ts does", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mcp-bundle-" });
  const fn = await (async () => {
    const out = join(dir, "index.js");
    await buildFunction(out);
    return stack.startFunction({}, out);
  })();
  try {
    const url = `${fn.url}/mcp-tools-server/mcp`;
    const t = await tenantWithKey(["echo", "tenant_info", "crm_read"]);
    deepStrictEqual(toolNames(await post(url, listTools(), { key: t.key })), [
      "crm_read",
      "echo",
      "tenant_info",
    ]);
    const echoed = await post(url, callTool("echo", { text: "from the bundle" }), { key: t.key });
    deepStrictEqual(echoed.body.result.content, [{ type: "text", text: "from the bundle" }]);
    const info = await post(url, callTool("tenant_info"), { key: t.key });
    equal(info.body.result.structuredContent.tenant.slug, t.slug);

    const anonymous = await fetch(url, { method: "POST", body: JSON.stringify(listTools()) });
    equal(anonymous.status, 401);
    equal((await anonymous.json()).code, "MISSING_API_KEY");
  } finally {
    await fn.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
