/**
 * The runtime's own floor for a cold start: a script that imports nothing, serves, and answers the
 * first request with fixed bytes shaped like the function's first answer (a tools/list result).
 * Started through cold_entry.ts exactly like the function, so the difference is ours.
 */
const body = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  result: {
    tools: [
      { name: "echo", inputSchema: { type: "object" } },
      { name: "tenant_info", inputSchema: { type: "object" } },
    ],
  },
});

Deno.serve(
  { port: Number(Deno.env.get("MCP_FUNCTION_PORT")), hostname: "127.0.0.1", onListen: () => {} },
  async (request) => {
    await request.arrayBuffer();
    return new Response(body, { headers: { "content-type": "application/json" } });
  },
);
