/**
 * Builds the MCP server for one tool set. Built once per fingerprint and shared by every tenant
 * with that set, so nothing tenant-specific may live here: the tenant arrives with each request
 * as `authInfo.extra.caller` and each tool reads it from there.
 */
import { type Ctx, McpServer, RpcError, StreamableHttpTransport } from "mcp-lite";
import { z } from "zod";
import type { Caller } from "./auth.ts";
import { SERVER_NAME, SERVER_VERSION } from "./config.ts";
import type { Logger } from "./log.ts";
import type { ToolSet } from "./tools/catalog.ts";
import {
  type ToolDefinition,
  ToolError,
  type ToolResult,
  type ToolServices,
} from "./tools/types.ts";

export interface BuiltServer {
  toolSet: ToolSet;
  handle(request: Request, caller: Caller): Promise<Response>;
}

/** What every server shares: built once per isolate, never per tenant. */
export interface ServerDeps {
  services: ToolServices;
  log: Logger;
}

export function buildServer(toolSet: ToolSet, deps: ServerDeps): BuiltServer {
  const { log } = deps;
  const server = new McpServer({
    name: SERVER_NAME,
    version: SERVER_VERSION,
    // Spread: zod ≥ 4.2 tags its JSON Schema output as a Standard Schema, which confuses mcp-lite.
    schemaAdapter: (schema) => ({ ...jsonSchemaOf(schema) }),
  });

  server.use(defaultMissingArguments);
  // Protocol errors (bad params, unknown method) pass as they are; anything else becomes a plain
  // internal error, because mcp-lite would otherwise send the message and stack to the client.
  server.onError((err, ctx) => {
    if (err instanceof RpcError) return undefined;
    log.error("rpc_failed", { method: ctx.request.method, error: String(err) });
    return { code: -32603, message: "Internal error" };
  });

  for (const tool of toolSet.tools) {
    server.tool(tool.name, {
      title: tool.title,
      description: tool.description,
      annotations: tool.annotations,
      inputSchema: withIssuePaths(tool.input),
      outputSchema: tool.output,
      handler: (args: unknown, ctx: Ctx) => runTool(tool, args, ctx, deps),
    });
  }

  const handler = new StreamableHttpTransport().bind(server);
  const scopes = [...toolSet.names];
  return {
    toolSet,
    handle: (request, caller) =>
      handler(request, { authInfo: { token: caller.keyPrefix, scopes, extra: { caller } } }),
  };
}

type Validate = z.ZodType["~standard"]["validate"];
type PathedSchema = {
  "~standard": { version: 1; vendor: string; validate: Validate };
  zod: z.ZodType;
};

/**
 * mcp-lite reports validation issues by message only ("Invalid email address"); prefix each
 * with its path ("operation.fields.email: …") so the caller knows which argument to fix.
 */
function withIssuePaths(schema: z.ZodType): PathedSchema {
  const validate: Validate = (value) => {
    const result = schema["~standard"].validate(value);
    if (result instanceof Promise || !result.issues) return result;
    return {
      issues: result.issues.map((issue) => {
        const path = (issue.path ?? []).map((p) => typeof p === "object" ? p.key : p).join(".");
        return { ...issue, message: path ? `${path}: ${issue.message}` : issue.message };
      }),
    };
  };
  return { "~standard": { version: 1, vendor: "zod", validate }, zod: schema };
}

/**
 * Inputs are described as callers send them (a field with a default is optional), outputs as
 * tools return them.
 */
function jsonSchemaOf(schema: unknown) {
  const input = (schema as Partial<PathedSchema>).zod;
  return input ? z.toJSONSchema(input, { io: "input" }) : z.toJSONSchema(schema as z.ZodType);
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
  const caller = ctx.authInfo?.extra?.caller as Caller | undefined;
  // Servers are shared across tenants with the same tool set; check the caller's own set anyway.
  if (!caller || !caller.toolSet.names.includes(tool.name)) {
    return errorResult(`Tool "${tool.name}" is not enabled for this API key.`);
  }
  try {
    return await tool.run(args, {
      tenant: caller.tenant,
      services,
      enabledTools: caller.toolSet.names,
      progress: async (update) => await ctx.progress?.(update),
    });
  } catch (err) {
    if (err instanceof ToolError) return errorResult(err.message);
    const ref = crypto.randomUUID();
    log.error("tool_failed", { tool: tool.name, tenant: caller.tenant.slug, ref, error: err });
    return errorResult(`The tool "${tool.name}" failed unexpectedly (reference ${ref}).`);
  }
}

function errorResult(text: string): ToolResult {
  return { content: [{ type: "text", text }], isError: true };
}
