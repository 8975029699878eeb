/** What a tool is, and what it gets to work with on each call. */
import type { z } from "zod";
import type { CatalogRow } from "../data/tenant_store.ts";
import type { Rpc } from "../data/rpc.ts";
import type { LogLevel } from "../mcp/protocol/log_levels.ts";
import type { TenantSecrets } from "../data/tenant_secrets.ts";
import type { GuardedFetch } from "../upstream/guarded_fetch.ts";

/** The caller as tools see it: resolved from the API key on this request, never from arguments. */
export interface TenantContext {
  id: string;
  slug: string;
  name: string;
  config: Record<string, unknown>;
}

/**
 * Shared, tenant-neutral dependencies of tools (database access, upstream HTTP), built once per
 * isolate by the composition root; every one is required, so a deployment missing one fails at
 * start-up rather than on the first call. Which tenant they act for always comes from
 * `ToolCallContext.tenant`.
 */
export interface ToolServices {
  /** SQL functions in `public`, called with the service key (CRM tools). */
  db: Rpc;
  /** Tenants' upstream credentials, by tenant id and secret name (HTTP tools). */
  tenantSecrets: TenantSecrets;
  /** The only way tools reach an upstream API: address policy, timeout, size cap. */
  upstreamFetch: GuardedFetch;
}

/** The names of ToolServices, for the start-up check of a composed deployment. */
export const TOOL_SERVICES = ["db", "tenantSecrets", "upstreamFetch"] as const;

export interface ToolCallContext {
  tenant: TenantContext;
  services: ToolServices;
  /** The tools enabled for this tenant, sorted. */
  enabledTools: readonly string[];
  /** Reports progress to the caller when it asked for it (a progress token); else a no-op. */
  progress(update: { progress: number; total?: number; message?: string }): Promise<void>;
  /** Sends a log message to the caller when it asked for that level; else a no-op. */
  log(level: LogLevel, data: unknown): Promise<void>;
  /** Aborted when the caller closes its response stream (how MCP cancels a streamed call). */
  signal: AbortSignal;
}

/** Content a tool result may carry (MCP content blocks). */
export type ToolContent =
  | { type: "text"; text: string }
  | { type: "image"; data: string; mimeType: string }
  | { type: "audio"; data: string; mimeType: string }
  | {
    type: "resource";
    resource:
      | { uri: string; mimeType?: string; text: string }
      | { uri: string; mimeType?: string; blob: string };
  }
  | {
    type: "resource_link";
    uri: string;
    name: string;
    title?: string;
    description?: string;
    mimeType?: string;
  };

export interface ToolResult {
  content: ToolContent[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

export interface ToolAnnotations {
  title?: string;
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

// deno-lint-ignore no-explicit-any
export interface ToolDefinition<I extends z.ZodType = any, O extends z.ZodType = any> {
  name: string;
  /** The module (family) the tool belongs to, e.g. "builtin", "crm". */
  family: string;
  title?: string;
  description: string;
  annotations?: ToolAnnotations;
  input: I;
  /**
   * The input schema as published, when it says more than `input` can express (e.g. `$defs` or
   * `if`/`then`/`else`). `input` still validates the arguments, so the two must agree.
   */
  inputJsonSchema?: Record<string, unknown>;
  output?: O;
  /** The output schema as published, precomputed (a listed tool: tools/listing.ts). */
  outputJsonSchema?: Record<string, unknown>;
  /**
   * Set on a tool served from its family's generated listing (tools/listing.ts): the definition
   * that validates and runs its calls, its family imported on first use.
   */
  implementation?: () => Promise<ToolDefinition>;
  /**
   * Client capabilities the tool cannot run without (e.g. `{ sampling: {} }`). A modern-era caller
   * that did not declare them gets a MissingRequiredClientCapability error instead of a call.
   */
  requiredClientCapabilities?: Record<string, Record<string, unknown>>;
  run(args: z.output<I>, call: ToolCallContext): Promise<ToolResult> | ToolResult;
}

/** Infers argument types from the schemas; a family module lists its tools with it. */
export function defineTool<I extends z.ZodType, O extends z.ZodType>(
  def: ToolDefinition<I, O>,
): ToolDefinition<I, O> {
  return def;
}

/** A failure the agent can act on: its message becomes an `isError` result, verbatim. */
export class ToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ToolError";
  }
}

/** A result carrying both a text rendering and the structured value. */
export function structured(value: Record<string, unknown>): ToolResult {
  return { content: [{ type: "text", text: JSON.stringify(value) }], structuredContent: value };
}

/** A family whose tools are built from their catalog row (their definition lives in the database). */
export interface DataFamily {
  family: string;
  /** Throws when the row's definition is unusable; that tool is then left out. */
  build(row: CatalogRow): ToolDefinition;
}

/** A family module: a fixed list of tools defined in code, or a builder for data-defined tools. */
export type ToolFamily = readonly ToolDefinition[] | DataFamily;

/**
 * A code-defined tool as tools/list shows it, apart from its name and description (the catalog
 * row's); generated into tools/listings/<family>.json (tools/listing.ts).
 */
export interface ToolListing {
  title?: string;
  annotations?: ToolAnnotations;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  requiredClientCapabilities?: Record<string, Record<string, unknown>>;
}

/** A family by name, its module imported only when a tenant's tools first need it. */
export interface LazyFamily {
  family: string;
  load(): Promise<ToolFamily>;
  /**
   * A code family's tools as listed (`deno task generate`), by name: read when a tenant first has
   * one of its tools and served without importing the family, which is imported on a tool's first
   * call. Absent: the family is imported when a tenant first has one of its tools (data families
   * need their module to build a tool from its row).
   */
  listed?: () => Promise<Readonly<Record<string, ToolListing>>>;
}
