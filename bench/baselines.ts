/**
 * The alternatives the function is measured against, each served by its own process at
 * POST /mcp with the bench tool set, no auth and no database:
 *
 *   lite-shared   one mcp-lite server + bind() for the process (the floor)
 *   lite-rebuild  a new mcp-lite server + bind() on every request
 *   sdk-v2        the official SDK v2 createMcpHandler (a new server per request)
 *
 *   deno run -A bench/baselines.ts <variant> <port>
 */
import { createMcpHandler, McpServer as SdkServer } from "@modelcontextprotocol/server";
import { McpServer, StreamableHttpTransport } from "mcp-lite";
import { z } from "zod";
import type { ToolCallContext } from "../supabase/functions/mcp-tools-server/tools/contract.ts";
import { offlineServices } from "./offline_services.ts";
import { BENCH_TOOL_NAMES, benchTools } from "./tools.ts";

export const BASELINES = ["lite-shared", "lite-rebuild", "sdk-v2"] as const;
export type Baseline = typeof BASELINES[number];

/** What the tools see in place of a resolved caller: the baselines have no auth. */
const CALL: ToolCallContext = {
  tenant: { id: "00000000-0000-4000-8000-00000000b0b0", slug: "bench", name: "Bench", config: {} },
  services: offlineServices(),
  enabledTools: BENCH_TOOL_NAMES,
  progress: async () => {},
  log: async () => {},
  signal: new AbortController().signal,
};

type Handler = (request: Request) => Promise<Response>;

/** Registered the way the function registers them (mcp_server.ts), minus the auth checks. */
function liteHandler(): Handler {
  const server = new McpServer({
    name: "bench",
    version: "1.0.0",
    schemaAdapter: (schema) => ({ ...z.toJSONSchema(schema as z.ZodType) }),
  });
  for (const tool of benchTools) {
    server.tool(tool.name, {
      title: tool.title,
      description: tool.description,
      annotations: tool.annotations,
      inputSchema: tool.input,
      outputSchema: tool.output,
      // mcp-lite's content types lag the spec (embedded resources); results pass through as is.
      handler: (args: unknown) => tool.run(args, CALL) as never,
    });
  }
  return new StreamableHttpTransport().bind(server);
}

function sdkServer(): SdkServer {
  const server = new SdkServer({ name: "bench", version: "1.0.0" });
  for (const tool of benchTools) {
    server.registerTool(tool.name, {
      title: tool.title,
      description: tool.description,
      annotations: tool.annotations,
      inputSchema: tool.input,
      outputSchema: tool.output,
      // deno-lint-ignore no-explicit-any
    }, (args: any) => tool.run(args, CALL) as any);
  }
  return server;
}

export function baselineHandler(variant: Baseline): Handler {
  switch (variant) {
    case "lite-shared":
      return liteHandler();
    case "lite-rebuild":
      return (request) => liteHandler()(request);
    case "sdk-v2": {
      const handler = createMcpHandler(() => sdkServer());
      return (request) => handler.fetch(request);
    }
  }
}

if (import.meta.main) {
  const [variant, port] = Deno.args;
  if (!BASELINES.includes(variant as Baseline) || !Number(port)) {
    console.error(`usage: baselines.ts <${BASELINES.join("|")}> <port>`);
    Deno.exit(2);
  }
  const handle = baselineHandler(variant as Baseline);
  Deno.serve({ hostname: "127.0.0.1", port: Number(port), onListen: () => {} }, (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/health") return new Response("ok");
    // `/mcp`, or behind the local gateway `/mcp-tools-server/mcp`, as the function sees it.
    if (!path.endsWith("/mcp")) return new Response("not found", { status: 404 });
    return handle(request);
  });
}
