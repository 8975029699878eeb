/**
 * The mcp-lite adapter: builds the ToolServer for one tool set. Built once per fingerprint and
 * shared by every tenant with that set, so nothing tenant-specific may live here: the caller
 * arrives with each request inside its RequestScope (`authInfo.extra`), and each tool reads it
 * from there.
 */
import { type Ctx, McpServer, RpcError, StreamableHttpTransport } from "mcp-lite";
import { z } from "zod";
import type { Logger } from "../lib/log.ts";
import type { LeftOutTool, ToolSet } from "../tools/catalog.ts";
import {
  type ToolCallContext,
  type ToolDefinition,
  ToolError,
  type ToolResult,
  type ToolServices,
} from "../tools/contract.ts";
import type { ServedTool, ToolServer } from "./front.ts";
import { isObject } from "./protocol/jsonrpc.ts";
import { LOG_LEVELS, type LogLevel } from "./protocol/log_levels.ts";
import { mirroredParams } from "./protocol/param_headers.ts";
import type { ServerInfo } from "./protocol/results.ts";
import { RequestScope } from "./scope.ts";

/** What every server shares: built once per isolate, never per tenant. */
export interface ServerDeps {
  services: ToolServices;
  log: Logger;
  serverInfo: ServerInfo;
}

/** mcp-lite answers in JSON; streaming, when needed, is the front's job. */
const JSON_ONLY = { "content-type": "application/json", accept: "application/json" };

export function buildServer(toolSet: ToolSet, deps: ServerDeps): ToolServer {
  const { log } = deps;
  const server = new McpServer(deps.serverInfo);

  server.use(defaultMissingArguments);
  // The era decides a result's final shape (2026-07-28 adds resultType, serverInfo, caching).
  server.use(async (ctx, next) => {
    await next();
    const scope = RequestScope.from(ctx.authInfo);
    const response = ctx.response as { result?: unknown } | undefined;
    if (scope && response && isObject(response.result)) {
      response.result = scope.shapeResult(ctx.request.method, response.result);
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
  const leftOut = new Map<string, string>(toolSet.leftOut.map((t) => [t.name, t.reason]));
  for (const tool of toolSet.tools) {
    // One tool's schema that can't be published must not take the others down with it.
    try {
      registerTool(server, tool, byName, deps);
    } catch (err) {
      byName.delete(tool.name);
      leftOut.set(tool.name, `its schema can't be published: ${(err as Error).message}`);
    }
  }
  if (leftOut.size > 0) {
    // Once per build: a server is built once per tool set, whatever the number of keys using it.
    log.error("tools_left_out", {
      tools: [...leftOut].map(([name, reason]): LeftOutTool => ({ name, reason })),
    });
    server.use(answerLeftOut(leftOut));
  }
  for (const [name, reason] of leftOut) {
    byName.set(name, { definition: leftOutDefinition(name, reason), mirroredParams: [] });
  }

  const handler = new StreamableHttpTransport().bind(server);
  const scopes = [...toolSet.names, ...leftOut.keys()];
  return {
    toolSet,
    tool: (name) => byName.get(name),
    dispatch: (url, body, scope) =>
      handler(new Request(url, { method: "POST", headers: JSON_ONLY, body }), {
        authInfo: { token: scope.caller.label, scopes, extra: scope.toExtra() },
      }),
  };
}

function registerTool(
  server: McpServer,
  tool: ToolDefinition,
  byName: Map<string, ServedTool>,
  deps: ServerDeps,
): void {
  // Plain JSON Schemas: listed as they are, while arguments are validated in runTool so that a
  // failure becomes a result the model can act on rather than a protocol error.
  const inputSchema = tool.inputJsonSchema ?? jsonSchema(tool.input, "input");
  const outputSchema = tool.output ? jsonSchema(tool.output, "output") : undefined;
  byName.set(tool.name, { definition: tool, mirroredParams: mirroredParams(inputSchema) });
  server.tool(tool.name, {
    title: tool.title,
    description: tool.description,
    annotations: tool.annotations,
    inputSchema,
    outputSchema,
    // mcp-lite's content types lag the spec (embedded resources); results pass through as is.
    handler: (args: unknown, ctx: Ctx) => runTool(tool, args, ctx, deps) as Promise<never>,
  });
}

/**
 * A call to an enabled tool that was left out is answered here, as a tool error naming the
 * reason: the agent learns the tool is broken, not that it does not exist.
 */
function answerLeftOut(leftOut: ReadonlyMap<string, string>) {
  return async (ctx: Ctx, next: () => Promise<void>) => {
    const request = ctx.request as { method?: string; params?: { name?: unknown } };
    const name = request.method === "tools/call" ? request.params?.name : undefined;
    const reason = typeof name === "string" ? leftOut.get(name) : undefined;
    const scope = RequestScope.from(ctx.authInfo);
    if (reason === undefined || ctx.requestId === undefined || !scope) return await next();
    const { toolSet } = scope.caller;
    const enabled = toolSet.names.includes(name as string) ||
      toolSet.leftOut.some((t) => t.name === name);
    const text = enabled
      ? `The tool "${name}" is enabled but can't be served: ${reason}. ` +
        "Ask an admin to fix its definition; the other tools work."
      : `Tool "${name}" is not enabled for this API key.`;
    ctx.response = {
      jsonrpc: "2.0",
      id: ctx.requestId,
      result: errorResult(text),
    } as unknown as typeof ctx.response;
  };
}

/** Stands in for a left-out tool so the front routes its calls here; never run. */
function leftOutDefinition(name: string, reason: string): ToolDefinition {
  return {
    name,
    family: "left_out",
    description: reason,
    input: z.unknown(),
    run: () => errorResult(reason),
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
  const scope = RequestScope.from(ctx.authInfo);
  // Servers are shared across tenants with the same tool set; check the caller's own set anyway.
  if (!scope || !scope.caller.toolSet.names.includes(tool.name)) {
    return errorResult(`Tool "${tool.name}" is not enabled for this API key.`);
  }
  const { caller } = scope;
  scope.toolOutcome = "tool_error";
  const parsed = tool.input.safeParse(args);
  if (!parsed.success) return errorResult(describeInvalidArguments(tool.name, parsed.error));
  try {
    const result = await tool.run(parsed.data, callContext(tool, scope, services));
    if (!result.isError) scope.toolOutcome = "ok";
    return result;
  } catch (err) {
    if (err instanceof ToolError) return errorResult(err.message);
    scope.toolOutcome = "error";
    const ref = crypto.randomUUID();
    log.error("tool_failed", { tool: tool.name, tenant: caller.tenant.slug, ref, error: err });
    return errorResult(`The tool "${tool.name}" failed unexpectedly (reference ${ref}).`);
  }
}

function callContext(
  tool: ToolDefinition,
  scope: RequestScope,
  services: ToolServices,
): ToolCallContext {
  const { caller, channel, progressToken, logLevel } = scope;
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
