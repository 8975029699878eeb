/**
 * The alternatives the function is measured against, each served by its own process at
 * POST /mcp with the bench tool set, no auth and no database:
 *
 *   ceiling            plain Deno.serve: reads the body, answers fixed bytes (the answer bare
 *                      mcp-lite gives for that method), no parsing, no tools — what HTTP alone costs
 *   lite-shared        one mcp-lite server + bind() for the process
 *   lite-rebuild       a new mcp-lite server + bind() on every request (JSON Schemas recomputed)
 *   lite-rebuild-memo  the same, with each tool's JSON Schemas computed once and reused
 *   sdk-v2             the official SDK v2 createMcpHandler (a new server per request)
 *   dispatch           the least any server on mcp-lite's dispatch does: the body parsed once and
 *                      handed to the same server lite-shared binds (the seam the function uses),
 *                      the answer serialized — no transport, no auth, no log
 *   dispatch-logged    the same plus the one request log line the function must write
 *                      (console.log of a JSON line, as Supabase collects function logs)
 *
 *   deno run -A bench/baselines.ts <variant> <port>
 */
import type { McpServer as SdkServer } from "@modelcontextprotocol/server";
import { McpServer, StreamableHttpTransport } from "mcp-lite";
import { z } from "zod";
import type { ToolCallContext } from "../supabase/functions/mcp-tools-server/tools/contract.ts";
import { SERVER_NAME, SERVER_VERSION } from "../supabase/functions/mcp-tools-server/config.ts";
import { mcpBody, mcpHeaders, type Method } from "./mcp.ts";
import { offlineServices } from "./offline_services.ts";
import { BENCH_TOOL_NAMES, benchTools } from "./tools.ts";

export const BASELINES = [
  "ceiling",
  "lite-shared",
  "lite-rebuild",
  "lite-rebuild-memo",
  "sdk-v2",
  "dispatch",
  "dispatch-logged",
] as const;
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

/** In name order, as the function lists a tool set. */
const byName = [...benchTools].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Input schemas are listed as the function lists them: what a caller may send. */
const inputs = new Set<unknown>(benchTools.map((tool) => tool.input));
type SchemaAdapter = (schema: unknown) => Record<string, unknown>;
const toJsonSchema: SchemaAdapter = (schema) => ({
  ...z.toJSONSchema(schema as z.ZodType, { io: inputs.has(schema) ? "input" : "output" }),
});
const memo = new Map<unknown, Record<string, unknown>>();
const memoJsonSchema: SchemaAdapter = (schema) => {
  let json = memo.get(schema);
  if (!json) memo.set(schema, json = toJsonSchema(schema));
  return json;
};

/**
 * The bench tools on a bare mcp-lite server with zod validation, and the function's server name
 * and version, so that both answer the same bytes.
 */
function liteHandler(schemaAdapter: SchemaAdapter = toJsonSchema): Handler {
  return new StreamableHttpTransport().bind(liteServer(schemaAdapter));
}

function liteServer(schemaAdapter: SchemaAdapter): McpServer {
  const server = new McpServer({ name: SERVER_NAME, version: SERVER_VERSION, schemaAdapter });
  for (const tool of byName) {
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
  return server;
}

/**
 * A floor under the function: what it can't avoid while mcp-lite serves the tools (one parse,
 * `_dispatch`, one serialization) and, when `logged`, while it writes a log line per request with
 * the fields the function's line has. The function does all of this and more (auth, eras,
 * limits, usage), so it can't be faster than `dispatch-logged`.
 */
function dispatchFloor(logged: boolean): Handler {
  const server = liteServer(toJsonSchema);
  const json = { "content-type": "application/json" };
  return async (request) => {
    const started = Date.now();
    const message = JSON.parse(await request.text());
    const response = new Response(JSON.stringify(await server._dispatch(message)), {
      headers: json,
    });
    if (logged) {
      console.log(JSON.stringify({
        level: "info",
        event: "request",
        tenant: "bench",
        credential: "api_key",
        key: "mcpk_b0b0b0b0b0b0",
        user: null,
        era: "legacy",
        http: request.method,
        method: message.method,
        tool: message.params?.name ?? null,
        status: 200,
        code: null,
        rpc_error: null,
        ms: Date.now() - started,
        key_cache: "hit",
        isolate: "bench",
      }));
    }
    return response;
  };
}

// Loaded only for its own variant, so the others also run where the SDK isn't mapped (the
// function's import map, on the edge runtime's Deno).
const sdk = () => import("@modelcontextprotocol/server");

function sdkServer(Server: typeof SdkServer): SdkServer {
  const server = new Server({ name: "bench", version: "1.0.0" });
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

/** Fixed answers, chosen by a substring of the body: the floor under every variant. */
function ceiling(): Handler {
  const lite = liteHandler();
  const answer = (method: Method) =>
    lite(new Request("http://ceiling/mcp", { method: "POST", headers, body: mcpBody(method) }))
      .then((res) => res.arrayBuffer());
  const headers = mcpHeaders(undefined, "json");
  const answers = Promise.all([answer("tools/call"), answer("tools/list")]);
  const json = { "content-type": "application/json" };
  return async (request) => {
    const [call, list] = await answers;
    const body = await request.text();
    return new Response(body.includes('"tools/call"') ? call : list, { headers: json });
  };
}

export function baselineHandler(variant: Baseline): Handler {
  switch (variant) {
    case "lite-shared":
      return liteHandler();
    case "lite-rebuild":
      return (request) => liteHandler()(request);
    case "lite-rebuild-memo":
      return (request) => liteHandler(memoJsonSchema)(request);
    case "ceiling":
      return ceiling();
    case "dispatch":
      return dispatchFloor(false);
    case "dispatch-logged":
      return dispatchFloor(true);
    case "sdk-v2": {
      const handler = sdk().then(({ createMcpHandler, McpServer }) =>
        createMcpHandler(() => sdkServer(McpServer))
      );
      return async (request) => (await handler).fetch(request);
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
