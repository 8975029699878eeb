/**
 * What the front learned about one request, handed through mcp-lite (as `authInfo.extra`) to the
 * tool that serves it. Servers are shared by every tenant with the same tool set, so this is the
 * only way the caller reaches a tool: per request, never through a closure or a session.
 */
import type { ToolOutcome } from "../data/usage_writer.ts";
import type { TenantContext } from "../tools/contract.ts";
import type { ToolSet } from "../tools/catalog.ts";
import type { Era } from "./protocol/era.ts";
import type { RequestId } from "./protocol/jsonrpc.ts";
import type { LogLevel } from "./protocol/log_levels.ts";
import type { Channel } from "./stream.ts";

/** Who is calling, as the MCP layer needs it (authentication produces it). */
export interface McpCaller {
  /** Safe to log: e.g. the key's public prefix. */
  label: string;
  tenant: TenantContext;
  /** The tools this caller may list and call: the same set for both. */
  toolSet: ToolSet;
}

export class RequestScope {
  /** Set by the tool runner: how the tool call ended (the front reports it as usage). */
  toolOutcome: ToolOutcome | undefined;

  constructor(
    readonly caller: McpCaller,
    readonly era: Era,
    /** From `params._meta.progressToken`: progress is reported only when the caller sent one. */
    readonly progressToken: RequestId | undefined,
    /** The least severe log level to send; null: no log messages. */
    readonly logLevel: LogLevel | null,
    /** This request's own response channel. */
    readonly channel: Channel,
    /** The era's final touch on a result (2026-07-28 adds resultType, serverInfo, caching). */
    readonly shapeResult: (method: string, result: Record<string, unknown>) => unknown,
  ) {}

  /** How the scope rides in mcp-lite's `authInfo.extra`: as itself, nothing copied. */
  toExtra(): Record<string, unknown> {
    return this as unknown as Record<string, unknown>;
  }

  /** The scope mcp-lite handed back to a handler; undefined if it isn't one of ours. */
  static from(authInfo: { extra?: unknown } | undefined): RequestScope | undefined {
    const scope = authInfo?.extra;
    return scope instanceof RequestScope ? scope : undefined;
  }
}
