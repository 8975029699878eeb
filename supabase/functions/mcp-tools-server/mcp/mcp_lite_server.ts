/**
 * The mcp-lite adapter: builds the ToolServer for one tool set. Built once per fingerprint and
 * shared by every tenant with that set, so nothing tenant-specific may live here: the caller
 * arrives with each request inside its RequestScope (`authInfo.extra`), and each tool reads it
 * from there.
 *
 * Calls reach mcp-lite through `McpServer._dispatch` with the message the front already parsed,
 * so a body is read and parsed once. That method is mcp-lite's own seam between its transport and
 * its server, but not a documented API: mcp-lite is pinned, and tests/unit/mcp_lite_seam_test.ts
 * fails if an upgrade changes it. mcp-lite itself is imported by the first tools/call: listing
 * tools needs none of it.
 */
import type { Ctx, McpServer } from "mcp-lite";
import type { z } from "zod";
import type { Logger } from "../lib/log.ts";
import type { LeftOutTool, ToolSet } from "../tools/catalog.ts";
import {
  type ToolCallContext,
  type ToolDefinition,
  ToolError,
  type ToolResult,
  type ToolServices,
} from "../tools/contract.ts";
import { jsonSchemaOf, neverRun } from "../tools/listing.ts";
import type { ServedTool, ToolServer } from "./front.ts";
import { isObject, type RequestId, type RpcRequest } from "./protocol/jsonrpc.ts";
import { LOG_LEVELS, type LogLevel } from "./protocol/log_levels.ts";
import { type MirroredParam, mirroredParams } from "./protocol/param_headers.ts";
import type { ServerInfo } from "./protocol/results.ts";
import { RequestScope } from "./scope.ts";

type McpLite = typeof import("mcp-lite");

let mcpLite: McpLite | undefined;
let mcpLiteLoading: Promise<McpLite> | undefined;

function importMcpLite(): Promise<McpLite> {
  return mcpLiteLoading ??= import("mcp-lite").then((module) => mcpLite = module, (err) => {
    mcpLiteLoading = undefined; // a failed import is tried again by the next call
    throw err;
  });
}

/** What every server shares: built once per isolate, never per tenant. */
export interface ServerDeps {
  services: ToolServices;
  log: Logger;
  serverInfo: ServerInfo;
}

/**
 * A tool as every server containing it serves it: its listing (JSON text, serialized once) and a
 * one-tool mcp-lite server that runs its calls. Built on first use, never at start-up, and shared
 * by every tool set that holds this definition, so a cached tool set costs little more than its
 * list of names.
 */
class SharedTool implements ServedTool {
  #mirrored?: readonly MirroredParam[];
  #listing?: string;
  #mcp?: McpServer;

  constructor(readonly definition: ToolDefinition, private readonly deps: ServerDeps) {}

  get inputSchema(): Record<string, unknown> {
    return this.definition.inputJsonSchema ?? jsonSchemaOf(this.definition.input, "input");
  }

  get mirroredParams(): readonly MirroredParam[] {
    return this.#mirrored ??= mirroredParams(this.inputSchema);
  }

  /** The tools/list entry as JSON text, its fields in the order mcp-lite lists them. */
  get listing(): string {
    const tool = this.definition;
    return this.#listing ??= JSON.stringify({
      name: tool.name,
      inputSchema: this.inputSchema,
      description: tool.description || undefined,
      title: tool.title || undefined,
      annotations: tool.annotations,
      outputSchema: tool.outputJsonSchema ??
        (tool.output ? jsonSchemaOf(tool.output, "output") : undefined),
    });
  }

  /**
   * The one-tool server, once mcp-lite and the definition that runs the tool are at hand; else
   * undefined, and `load` gets them.
   */
  get mcp(): McpServer | undefined {
    if (this.#mcp || this.definition.implementation || !mcpLite) return this.#mcp;
    return this.#mcp = toolMcpServer(mcpLite, this.definition, this.inputSchema, this.deps);
  }

  /** The tool's first call: mcp-lite and, for a listed tool, its family are imported. */
  async load(): Promise<McpServer> {
    const [lite, implementation] = await Promise.all([
      importMcpLite(),
      this.definition.implementation?.() ?? this.definition,
    ]);
    return this.#mcp ??= toolMcpServer(lite, implementation, this.inputSchema, this.deps);
  }
}

/** One tool registered on an mcp-lite server, which validates nothing itself (runTool does). */
function toolMcpServer(
  { McpServer, RpcError }: McpLite,
  tool: ToolDefinition,
  inputSchema: Record<string, unknown>,
  deps: ServerDeps,
): McpServer {
  const server = new McpServer(deps.serverInfo);
  // Protocol errors (bad params, unknown method) pass as they are; anything else becomes a plain
  // internal error, because mcp-lite would otherwise send the message and stack to the client.
  server.onError((err, ctx) => {
    if (err instanceof RpcError) return undefined;
    deps.log.error("rpc_failed", { method: ctx.request.method, error: String(err) });
    return { code: -32603, message: "Internal error" };
  });
  server.tool(tool.name, {
    title: tool.title,
    description: tool.description,
    annotations: tool.annotations,
    // Plain JSON Schemas: arguments are validated in runTool so that a failure becomes a result
    // the model can act on rather than a protocol error.
    inputSchema,
    // mcp-lite's content types lag the spec (embedded resources); results pass through as is.
    handler: (args: unknown, ctx: Ctx) => runTool(tool, args, ctx, deps) as Promise<never>,
  });
  return server;
}

/**
 * Builds ToolServers for one composition: each tool definition is turned into a SharedTool once
 * (held as long as the definition is), and a server per tool set only names its tools. A tool
 * whose schema can't be published is left out of that set alone, like a definition the catalog
 * couldn't build: logged once per server build, and calling it says why.
 */
export function serverBuilder(deps: ServerDeps): (toolSet: ToolSet) => ToolServer {
  const shared = new WeakMap<ToolDefinition, SharedTool | Error>();
  const served = (tool: ToolDefinition) => {
    let found = shared.get(tool);
    if (!found) {
      const candidate = new SharedTool(tool, deps);
      try {
        void candidate.listing; // the schemas, computed now: one that fails leaves only this tool out
        found = candidate;
      } catch (err) {
        found = new Error(`its schema can't be published: ${(err as Error).message}`);
      }
      shared.set(tool, found);
    }
    return found;
  };
  return (toolSet) => {
    const server = new ToolSetServer(toolSet, served);
    if (server.leftOut.size > 0) {
      // Once per build: a server is built once per tool set, whatever the number of keys using it.
      deps.log.error("tools_left_out", {
        tools: [...server.leftOut].map(([name, reason]): LeftOutTool => ({ name, reason })),
      });
    }
    return server;
  };
}

/** The server for one tool set: what it lists and what it may call are the same `toolSet`. */
class ToolSetServer implements ToolServer {
  /** Enabled tools this server can't serve, and why. */
  readonly leftOut: ReadonlyMap<string, string>;

  constructor(
    readonly toolSet: ToolSet,
    private readonly served: (tool: ToolDefinition) => SharedTool | Error,
  ) {
    const leftOut = new Map(toolSet.leftOut.map((t) => [t.name, t.reason]));
    for (const tool of toolSet.tools) {
      const found = served(tool);
      if (found instanceof Error) leftOut.set(tool.name, found.message);
    }
    this.leftOut = leftOut;
  }

  tool(name: string): ServedTool | undefined {
    const reason = this.leftOut.get(name);
    if (reason !== undefined) {
      return { definition: leftOutDefinition(name, reason), mirroredParams: [] };
    }
    const tool = this.toolSet.tools[sortedIndex(this.toolSet.names, name)];
    if (tool?.name !== name) return undefined;
    const found = this.served(tool);
    return found instanceof Error ? undefined : found;
  }

  dispatch(message: RpcRequest, scope: RequestScope): Promise<string> {
    if (message.method === "tools/list") return Promise.resolve(this.#list(message.id, scope));
    return this.#call(message, scope);
  }

  /**
   * tools/list as text: the era's result around the shared listings, so no schema is serialized
   * again per request.
   */
  #list(id: RequestId, scope: RequestScope): string {
    const shaped = scope.shapeResult("tools/list", { tools: [] });
    const tools = this.toolSet.tools.flatMap((tool) => {
      const found = this.served(tool);
      return found instanceof Error ? [] : [found.listing];
    }).join(",");
    return spliceTools(JSON.stringify({ jsonrpc: "2.0", id, result: shaped }), tools);
  }

  /** tools/call through the tool's mcp-lite server, with the parsed message: nothing re-read. */
  async #call(message: RpcRequest, scope: RequestScope): Promise<string> {
    const params = message.params ?? {};
    const name = typeof params.name === "string" ? params.name : undefined;
    const reason = name === undefined ? undefined : this.leftOut.get(name);
    if (reason !== undefined) {
      // The agent learns the tool is broken, not that it does not exist.
      const { toolSet } = scope.caller;
      const enabled = toolSet.names.includes(name!) || toolSet.leftOut.some((t) => t.name === name);
      const text = enabled
        ? `The tool "${name}" is enabled but can't be served: ${reason}. ` +
          "Ask an admin to fix its definition; the other tools work."
        : `Tool "${name}" is not enabled for this API key.`;
      const result = scope.shapeResult("tools/call", { ...errorResult(text) });
      return JSON.stringify({ jsonrpc: "2.0", id: message.id, result });
    }
    const tool = name === undefined ? undefined : this.tool(name);
    if (!(tool instanceof SharedTool)) {
      throw new Error(`tools/call reached the server without a known tool`);
    }
    // SDK clients omit `arguments` for tools that take none; validate them as `{}`. The message
    // was parsed for this request alone, so it is completed in place.
    params.arguments ??= {};
    const mcp = tool.mcp ?? await tool.load();
    const response = await mcp._dispatch({
      jsonrpc: "2.0",
      // mcp-lite's types say string ids only; its transport passes numeric ids as they are.
      id: message.id as string,
      method: message.method,
      params,
    }, { authInfo: { token: scope.caller.label, scopes: [], extra: scope.toExtra() } });
    const reply = response as { result?: unknown } | null;
    // The era decides a result's final shape (2026-07-28 adds resultType, serverInfo, caching).
    if (reply && isObject(reply.result)) {
      reply.result = scope.shapeResult("tools/call", reply.result);
    }
    return JSON.stringify(reply);
  }
}

/** Stands in for a left-out tool so the front routes its calls here; never run. */
function leftOutDefinition(name: string, reason: string): ToolDefinition {
  return {
    name,
    family: "left_out",
    description: reason,
    input: neverRun("a left-out tool's calls are answered by its server").input,
    run: () => errorResult(reason),
  };
}

/** Where `name` is, or would be, in the sorted `names`. */
function sortedIndex(names: readonly string[], name: string): number {
  let lo = 0;
  let hi = names.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (names[mid] < name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Puts the listings into the `"tools":[]` the shaped result was serialized with. */
function spliceTools(json: string, tools: string): string {
  const at = json.indexOf(EMPTY_TOOLS);
  if (at === -1) throw new Error("tools/list result lost its tools");
  const end = at + EMPTY_TOOLS.length - 1;
  return json.slice(0, end) + tools + json.slice(end);
}

const EMPTY_TOOLS = '"tools":[]';

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
  let signal: AbortSignal | undefined;
  return {
    tenant: caller.tenant,
    services,
    enabledTools: caller.toolSet.names,
    // Read when a tool asks: a JSON-only caller's channel makes a fresh signal each time.
    get signal() {
      return signal ??= channel.signal;
    },
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
