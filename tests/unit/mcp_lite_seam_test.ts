/**
 * The function hands tools/call to mcp-lite through `McpServer._dispatch` with the message it
 * already parsed (mcp/mcp_lite_server.ts). That method is not a documented API, so mcp-lite is
 * pinned exactly and these tests fail loudly if an upgrade changes what the function relies on:
 * the signature, numeric and string ids kept, `authInfo` reaching the handler, errors as JSON-RPC
 * errors, and `null` for notifications.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { McpServer, RpcError } from "mcp-lite";

const PINNED = "npm:mcp-lite@0.10.0";

Deno.test("mcp-lite is pinned to the version whose _dispatch the function relies on", async () => {
  for (const file of ["deno.json", "supabase/functions/mcp-tools-server/deno.json"]) {
    const imports = JSON.parse(await Deno.readTextFile(file)).imports;
    equal(imports["mcp-lite"], PINNED, `${file}: re-check _dispatch before changing mcp-lite`);
  }
  equal(typeof McpServer.prototype._dispatch, "function", "McpServer._dispatch is gone");
  equal(McpServer.prototype._dispatch.length, 1, "McpServer._dispatch changed its parameters");
});

function server() {
  const mcp = new McpServer({ name: "seam", version: "1" });
  mcp.tool("who", {
    inputSchema: { type: "object" },
    handler: (args: unknown, ctx) => ({
      content: [{ type: "text", text: JSON.stringify({ args, token: ctx.authInfo?.token }) }],
      structuredContent: { extra: ctx.authInfo?.extra },
    }),
  });
  mcp.tool("fails", {
    inputSchema: { type: "object" },
    handler: () => {
      throw new RpcError(-32602, "bad");
    },
  });
  return mcp;
}

Deno.test("_dispatch answers a parsed request with a JSON-RPC response, ids kept", async () => {
  const mcp = server();
  const extra = { scope: Symbol("per request") };
  for (const id of [7, "seven"]) {
    const response = await mcp._dispatch(
      {
        jsonrpc: "2.0",
        // mcp-lite's types say string ids; the function passes numbers too (this test's point).
        id: id as string,
        method: "tools/call",
        params: { name: "who", arguments: {} },
      },
      { authInfo: { token: "caller", scopes: [], extra } },
    );
    // deno-lint-ignore no-explicit-any
    const reply = response as any;
    equal(reply.jsonrpc, "2.0");
    equal(reply.id, id);
    deepStrictEqual(JSON.parse(reply.result.content[0].text), { args: {}, token: "caller" });
    ok(reply.result.structuredContent.extra === extra, "authInfo.extra must arrive as passed");
  }
});

Deno.test("_dispatch turns thrown RpcErrors and unknown methods into JSON-RPC errors", async () => {
  const mcp = server();
  // deno-lint-ignore no-explicit-any
  const failed: any = await mcp._dispatch({
    jsonrpc: "2.0",
    id: "1",
    method: "tools/call",
    params: { name: "fails", arguments: {} },
  });
  deepStrictEqual(JSON.parse(JSON.stringify(failed.error)), { code: -32602, message: "bad" });
  // deno-lint-ignore no-explicit-any
  const unknown: any = await mcp._dispatch({ jsonrpc: "2.0", id: "2", method: "nope/nope" });
  equal(unknown.error.code, -32601);
});

Deno.test("_dispatch answers a notification with null", async () => {
  equal(await server()._dispatch({ jsonrpc: "2.0", method: "notifications/initialized" }), null);
});
