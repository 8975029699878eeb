/**
 * Builds the MCP server for one tool set. Built once per fingerprint and shared by every tenant
 * with that set, so nothing tenant-specific may live here: the tenant arrives with each request
 * as `authInfo.extra.caller` and each tool reads it from there.
 */
import { type Ctx, McpServer, RpcError, StreamableHttpTransport } from "mcp-lite";
import { z } from "zod";
import type { Caller } from "../auth/authenticator.ts";
import { SERVER_NAME, SERVER_VERSION } from "../config.ts";
import type { Logger } from "../lib/log.ts";
import { isObject } from "./protocol/jsonrpc.ts";
import { type MirroredParam, mirroredParams } from "./protocol/param_headers.ts";
import { modernResult } from "./protocol/results.ts";
import type { RequestScope } from "./scope.ts";
import type { ToolSet } from "../tools/catalog.ts";
import {
  LOG_LEVELS,
  type LogLevel,
  type ToolCallContext,
  type ToolDefinition,
  ToolError,
  type ToolResult,
  type ToolServices,
} from "../tools/contract.ts";

/** A tool as this server serves it. */
export interface ServedTool {
  definition: ToolDefinition;
  /** Arguments 2026-07-28 clients mirror into Mcp-Param-* headers. */
  mirroredParams: readonly MirroredParam[];
}

export interface BuiltServer {
  toolSet: ToolSet;
  /** A tool of this set, by name. */
  tool(name: string): ServedTool | undefined;
  /**
   * Runs one JSON-RPC message (already checked by the protocol front) and answers with JSON;
   * notifications a tool sends go to `scope.channel`.
   */
  dispatch(url: string, body: string, caller: Caller, scope: RequestScope): Promise<Response>;
}

/** What every server shares: built once per isolate, never per tenant. */
export interface ServerDeps {
  services: ToolServices;
  log: Logger;
  /** How long a caller may cache its tools/list (the key cache's lifetime). */
  toolsTtlMs: number;
}

interface Extra {
  caller: Caller;
  scope: RequestScope;
}

/** mcp-lite answers in JSON; streaming, when needed, is the front's job. */
const JSON_ONLY = { "content-type": "application/json", accept: "application/json" };

export function buildServer(toolSet: ToolSet, deps: ServerDeps): BuiltServer {
  const { log, toolsTtlMs } = deps;
  const server = new McpServer({ name: SERVER_NAME, version: SERVER_VERSION });

  server.use(defaultMissingArguments);
  // 2026-07-28 results carry resultType, serverInfo and (tools/list) caching hints.
  server.use(async (ctx, next) => {
    await next();
    const scope = (ctx.authInfo?.extra as Extra | undefined)?.scope;
    const response = ctx.response as { result?: unknown } | undefined;
    if (scope?.era === "modern" && response && isObject(response.result)) {
      response.result = modernResult(ctx.request.method, response.result, toolsTtlMs);
    }
  });
  // Protocol errors (bad params, unknown method) pass as they are; anything else becomes a plain
  // internal error, because mcp-lite would otherwise send the message and stack to the client.
  server.onError((err, ctx) => {
    if (err instanceof RpcError) return undefined;
    log.error("rpc_failed", { method: ctx.request.method, error: String(err) });
    return { code: -32603, message: "Internal error" };
  });

  const byName = new Map<string, ServedTool>();
  for (const tool of toolSet.tools) {
    // Plain JSON Schemas: listed as they are, while arguments are validated in runTool so that a
    // failure becomes a result the model can act on rather than a protocol error.
    const inputSchema = tool.inputJsonSchema ?? jsonSchema(tool.input, "input");
    byName.set(tool.name, { definition: tool, mirroredParams: mirroredParams(inputSchema) });
    server.tool(tool.name, {
      title: tool.title,
      description: tool.description,
      annotations: tool.annotations,
      inputSchema,
      outputSchema: tool.output ? jsonSchema(tool.output, "output") : undefined,
      // mcp-lite's content types lag the spec (embedded resources); results pass through as is.
      handler: (args: unknown, ctx: Ctx) => runTool(tool, args, ctx, deps) as Promise<never>,
    });
  }

  const handler = new StreamableHttpTransport().bind(server);
  const scopes = [...toolSet.names];
  return {
    toolSet,
    tool: (name) => byName.get(name),
    dispatch: (url, body, caller, scope) =>
      handler(new Request(url, { method: "POST", headers: JSON_ONLY, body }), {
        authInfo: { token: caller.keyPrefix, scopes, extra: { caller, scope } },
      }),
  };
}

/** JSON Schemas are computed once per schema object, not once per server built. */
const jsonSchemas = new WeakMap<z.ZodType, Map<string, Record<string, unknown>>>();

function jsonSchema(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  let byIo = jsonSchemas.get(schema);
  if (!byIo) jsonSchemas.set(schema, byIo = new Map());
  let json = byIo.get(io);
  // Spread: zod ≥ 4.2 tags its output as a Standard Schema, which would make mcp-lite validate.
  if (!json) byIo.set(io, json = { ...z.toJSONSchema(schema, { io }) });
  return json;
}

/** SDK clients omit `arguments` for tools that take none; validate them as `{}`. */
async function defaultMissingArguments(ctx: Ctx, next: () => Promise<void>) {
  const request = ctx.request as { method?: string; params?: Record<string, unknown> };
  if (request.method === "tools/call" && request.params && request.params.arguments == null) {
    request.params.arguments = {};
  }
  await next();
}

async function runTool(
  tool: ToolDefinition,
  args: unknown,
  ctx: Ctx,
  { services, log }: ServerDeps,
): Promise<ToolResult> {
  const extra = ctx.authInfo?.extra as Extra | undefined;
  const caller = extra?.caller;
  // Servers are shared across tenants with the same tool set; check the caller's own set anyway.
  if (!caller || !extra.scope || !caller.toolSet.names.includes(tool.name)) {
    return errorResult(`Tool "${tool.name}" is not enabled for this API key.`);
  }
  const parsed = tool.input.safeParse(args);
  if (!parsed.success) return errorResult(describeInvalidArguments(tool.name, parsed.error));
  try {
    return await tool.run(parsed.data, callContext(tool, caller, extra.scope, services));
  } catch (err) {
    if (err instanceof ToolError) return errorResult(err.message);
    const ref = crypto.randomUUID();
    log.error("tool_failed", { tool: tool.name, tenant: caller.tenant.slug, ref, error: err });
    return errorResult(`The tool "${tool.name}" failed unexpectedly (reference ${ref}).`);
  }
}

function callContext(
  tool: ToolDefinition,
  caller: Caller,
  scope: RequestScope,
  services: ToolServices,
): ToolCallContext {
  const { channel, progressToken, logLevel } = scope;
  const minimum = logLevel === null ? Infinity : LOG_LEVELS.indexOf(logLevel);
  return {
    tenant: caller.tenant,
    services,
    enabledTools: caller.toolSet.names,
    signal: channel.signal,
    progress: progressToken === undefined ? noop : (update) => {
      channel.notify({ method: "notifications/progress", params: { progressToken, ...update } });
      return Promise.resolve();
    },
    log: (level: LogLevel, data: unknown) => {
      if (LOG_LEVELS.indexOf(level) >= minimum) {
        channel.notify({
          method: "notifications/message",
          params: { level, logger: tool.name, data },
        });
      }
      return Promise.resolve();
    },
  };
}

const noop = () => Promise.resolve();

/** Names every failing argument, so the model can fix its call. */
function describeInvalidArguments(tool: string, error: z.ZodError): string {
  const problems = error.issues.map((issue) => {
    const path = issue.path.length === 0
      ? "arguments"
      : issue.path.map((part) => typeof part === "number" ? `[${part}]` : `.${String(part)}`)
        .join("").replace(/^\./, "");
    return `${path}: ${issue.message}`;
  });
  return `Invalid arguments for tool "${tool}": ${problems.join("; ")}.`;
}

function errorResult(text: string): ToolResult {
  return { content: [{ type: "text", text }], isError: true };
}
