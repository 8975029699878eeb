/**
 * The `remote` family: the tools of the MCP servers a tenant attached, served beside its enabled
 * tools as `<prefix><remote name>`. Each server's tool list is cached per tenant and server for a
 * TTL and is part of the tool-set fingerprint, so a change upstream is served within the TTL and
 * tenants with different servers never share an MCP server. A server that doesn't answer within
 * the list timeout loses only its own tools (logged) and is asked again after a short pause.
 */
import * as z from "zod";
import type { RemoteServer } from "../../data/remote_servers.ts";
import { StoreUnavailableError } from "../../data/rpc.ts";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/log.ts";
import { isLogLevel } from "../../mcp/protocol/log_levels.ts";
import type { ToolSet } from "../catalog.ts";
import {
  type TenantContext,
  type ToolAnnotations,
  type ToolCallContext,
  type ToolDefinition,
  ToolError,
  type ToolResult,
  type ToolServices,
} from "../contract.ts";
import { redactedJson, redactor } from "../http/response.ts";
import { connectRemote, guardedFetchLike } from "./client.ts";

export const REMOTE_FAMILY = "remote";

/** MCP tool names (the spec's SHOULD): what a remote name may be once prefixed. */
const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
/** A failed server is asked again after this long at most (or the TTL, if shorter). */
const RETRY_FAILED_MS = 5_000;
const MEMO_LIMIT = 1_000;

export interface RemoteToolsOptions {
  services: Pick<ToolServices, "upstreamFetch" | "tenantSecrets">;
  clock: Clock;
  log: Logger;
  ttlMs: number;
  listTimeoutMs: number;
}

interface Listing {
  tools: ToolDefinition[];
  /** Changes with anything listed (names, schemas, descriptions). */
  hash: string;
  expiresAt: number;
}

interface RemoteTool {
  name: string;
  title?: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

export class RemoteTools {
  readonly #listings = new Map<string, Listing>();
  readonly #pending = new Map<string, Promise<Listing>>();
  readonly #sets = new Map<string, ToolSet>();

  constructor(private readonly options: RemoteToolsOptions) {}

  /** The tenant's tool set with its remote servers' tools added (catalog names win). */
  async extend(
    tenant: TenantContext,
    servers: readonly RemoteServer[],
    base: ToolSet,
    /** A narrowed key's tool names: remote tools outside it are left out too. */
    only: readonly string[] | null = null,
  ): Promise<ToolSet> {
    if (servers.length === 0) return base;
    const listings = await Promise.all(servers.map((server) => this.#listing(tenant, server)));
    const fingerprint = [
      base.fingerprint,
      ...servers.map((s, i) => `remote:${tenant.id}/${s.id}@${s.version}#${listings[i].hash}`),
      ...(only ? [`only:${[...only].sort().join("|")}`] : []),
    ].join(",");
    const known = this.#sets.get(fingerprint);
    if (known) return known;
    const byName = new Map(base.tools.map((tool) => [tool.name, tool]));
    for (const listing of listings) {
      for (const tool of listing.tools) {
        if (only && !only.includes(tool.name)) continue;
        if (!byName.has(tool.name)) byName.set(tool.name, tool);
      }
    }
    const names = [...byName.keys()].sort();
    const toolSet = {
      names,
      fingerprint,
      tools: names.map((name) => byName.get(name)!),
      leftOut: base.leftOut,
    };
    if (this.#sets.size >= MEMO_LIMIT) this.#sets.clear();
    this.#sets.set(fingerprint, toolSet);
    return toolSet;
  }

  #listing(tenant: TenantContext, server: RemoteServer): Promise<Listing> {
    const key = `${tenant.id}/${server.id}@${server.version}`;
    const now = this.options.clock.now();
    const cached = this.#listings.get(key);
    if (cached && cached.expiresAt > now) return Promise.resolve(cached);
    const inFlight = this.#pending.get(key);
    if (inFlight) return inFlight;
    const loading = this.#load(tenant, server)
      .catch((err) => {
        this.options.log.error("remote_tools_unavailable", {
          tenant: tenant.slug,
          server: server.prefix,
          host: hostOf(server.url),
          error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
        });
        return {
          tools: [],
          hash: "unavailable",
          expiresAt: this.options.clock.now() + Math.min(this.options.ttlMs, RETRY_FAILED_MS),
        };
      })
      .then((listing) => {
        for (const old of this.#listings.keys()) {
          if (old.startsWith(`${tenant.id}/${server.id}@`)) this.#listings.delete(old);
        }
        if (this.#listings.size >= MEMO_LIMIT) this.#listings.clear();
        this.#listings.set(key, listing);
        return listing;
      })
      .finally(() => this.#pending.delete(key));
    this.#pending.set(key, loading);
    return loading;
  }

  async #load(tenant: TenantContext, server: RemoteServer): Promise<Listing> {
    const { listTimeoutMs, ttlMs, clock } = this.options;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no tool list within ${listTimeoutMs} ms`)),
        listTimeoutMs,
      );
    });
    try {
      const listed = await Promise.race([
        this.#withClient(tenant, server, listTimeoutMs, async (client) => {
          const { tools } = await client.listTools();
          return tools as unknown as RemoteTool[];
        }),
        deadline,
      ]);
      const allowed = server.allowedTools ? new Set(server.allowedTools) : undefined;
      const kept = listed.filter((tool) =>
        (!allowed || allowed.has(tool.name)) && TOOL_NAME.test(server.prefix + tool.name)
      ).sort((a, b) => a.name.localeCompare(b.name));
      return {
        tools: kept.map((tool) => this.#definition(server, tool)),
        hash: await digest(JSON.stringify(kept)),
        expiresAt: clock.now() + ttlMs,
      };
    } finally {
      clearTimeout(timer);
    }
  }

  #definition(server: RemoteServer, tool: RemoteTool): ToolDefinition {
    return {
      name: server.prefix + tool.name,
      family: REMOTE_FAMILY,
      title: tool.title,
      description: tool.description ?? `${tool.name} (from ${hostOf(server.url)})`,
      annotations: hints(tool.annotations),
      // The remote server validates its own arguments; its schema is what agents see.
      input: z.record(z.string(), z.unknown()),
      inputJsonSchema: { type: "object", ...tool.inputSchema },
      run: (args, call) => this.#call(server, tool.name, args, call),
    };
  }

  async #call(
    server: RemoteServer,
    remoteName: string,
    args: Record<string, unknown>,
    call: ToolCallContext,
  ): Promise<ToolResult> {
    const source = `remote MCP server "${server.prefix}" (${hostOf(server.url)})`;
    return await this.#withClient(
      call.tenant,
      server,
      undefined,
      async (client, redact, failed) => {
        // Relayed as they arrive, on this caller's own stream: log lines at the caller's level,
        // progress under the caller's token (the client maps the upstream's own token back).
        client.setNotificationHandler("notifications/message", (notification) => {
          const { level, data } = notification.params;
          // A log line may quote the credential back, as results may.
          const clean = redactedJson(data, redact) ?? "[log data nested too deeply to relay]";
          if (isLogLevel(level)) void call.log(level, clean);
        });
        let lastProgress = -Infinity;
        try {
          const answer = await client.callTool({ name: remoteName, arguments: args }, {
            onprogress: (update) => {
              // Progress must increase (the spec's MUST); an upstream that goes back is not echoed.
              if (!(update.progress > lastProgress)) return;
              lastProgress = update.progress;
              void call.progress({
                progress: update.progress,
                total: update.total,
                message: update.message === undefined ? undefined : redact(update.message),
              });
            },
            signal: AbortSignal.any([call.signal, failed]),
          }) as unknown as ToolResult;
          // Only the result itself: the upstream's _meta (its server info, caching) is not ours.
          // A remote server may quote the credential back anywhere in it (text, an embedded
          // resource, structured content): every string is redacted before the agent sees it.
          const content = redactedJson(answer.content ?? [], redact);
          const structured = answer.structuredContent === undefined
            ? undefined
            : redactedJson(answer.structuredContent, redact);
          if (content === undefined || (answer.structuredContent && structured === undefined)) {
            throw new Error("its result is nested too deeply to pass on");
          }
          const result: ToolResult = { content: content as ToolResult["content"] };
          if (structured) result.structuredContent = structured as ToolResult["structuredContent"];
          if (answer.isError) result.isError = true;
          if (!result.isError) return result;
          // The agent must know which source failed: the first text says so.
          return {
            ...result,
            content: [
              { type: "text", text: `The ${source} answered with an error:` },
              ...result.content,
            ],
          };
        } catch (err) {
          // A stream cut mid-way (size cap, time limit) says so itself, not as a cancelled request.
          const cause = failed.aborted ? failed.reason : err;
          throw new ToolError(redact(`The ${source} failed: ${describe(cause)}`));
        }
      },
      source,
      call.signal,
    );
  }

  /** A connected client with the tenant's credential; closed afterwards. */
  async #withClient<T>(
    tenant: TenantContext,
    server: RemoteServer,
    timeoutMs: number | undefined,
    use: (
      client: Awaited<ReturnType<typeof connectRemote>>,
      redact: (s: string) => string,
      /** Aborted, with the reason, when a streamed answer fails mid-way. */
      failed: AbortSignal,
    ) => Promise<T>,
    source?: string,
    /** The caller's own signal: aborting it ends every request made to the server at once. */
    signal?: AbortSignal,
  ): Promise<T> {
    const headers: Record<string, string> = {};
    const secretValues: string[] = [];
    if (server.secret) {
      let secrets: ReadonlyMap<string, string>;
      try {
        secrets = await this.options.services.tenantSecrets.get(tenant.id, [server.secret]);
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) throw err;
        throw new ToolError(
          "This tenant's credentials can't be read right now (the database did not answer).",
        );
      }
      const value = secrets.get(server.secret);
      if (value === undefined) {
        throw new ToolError(
          `The credential "${server.secret}" of the remote MCP server "${server.prefix}" is not ` +
            "set. Ask an admin to set it (set_tenant_secret).",
        );
      }
      headers.authorization = `Bearer ${value}`;
      secretValues.push(value, encodeURIComponent(value), headers.authorization);
    }
    const redact = redactor(secretValues);
    const failure = new AbortController();
    const fetch = guardedFetchLike(this.options.services.upstreamFetch, {
      credentialHeaders: server.secret ? ["authorization"] : [],
      timeoutMs,
      onStreamFailure: (err) => failure.abort(err),
      signal,
    });
    let client;
    try {
      client = await connectRemote(server.url, { fetch, headers });
    } catch (err) {
      const message = `${source ?? `remote MCP server "${server.prefix}"`} can't be reached: ${
        describe(err)
      }`;
      throw source ? new ToolError(redact(`The ${message}`)) : new Error(redact(message));
    }
    try {
      return await use(client, redact, failure.signal);
    } catch (err) {
      // Whatever the remote server said may quote the credential back.
      if (err instanceof ToolError) throw err;
      throw new Error(redact(describe(err)));
    } finally {
      client.close().catch(() => {});
    }
  }
}

function hints(annotations: Record<string, unknown> | undefined): ToolAnnotations | undefined {
  if (!annotations) return undefined;
  const out: ToolAnnotations = {};
  for (
    const key of ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] as const
  ) {
    if (typeof annotations[key] === "boolean") out[key] = annotations[key] as boolean;
  }
  if (typeof annotations.title === "string") out.title = annotations.title;
  return out;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "?";
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function digest(text: string): Promise<string> {
  const bytes = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(bytes).slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join(
    "",
  );
}
