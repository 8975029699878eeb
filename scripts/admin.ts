// `deno task admin`: manage tenants, keys and tools through the project's admin SQL functions.
//
// Talks to the running `deno task dev` stack by default (its .local/dev.json), or to any project
// given SUPABASE_URL and a service key (SUPABASE_SERVICE_ROLE_KEY or SUPABASE_SECRET_KEY).

import { createClient } from "@supabase/supabase-js";
import { parseArgs } from "node:util";
import { devJsonPath } from "./lib/dev_home.ts";
import { importArgs, showImport } from "./lib/import_openapi.ts";

const USAGE = `usage: deno task admin <command> [--json]

  tenant list
  tenant show <slug>
  tenant create <slug> --name <name> [--tools a,b] [--config <json>]
  tenant status <slug> active|disabled
  tenant config <slug> <json>
  tools list
  tools set <slug> <tool,...>          (an empty list "" enables nothing)
  tools enable <slug> <tool...>
  tools disable <slug> <tool...>
  tools import-openapi <file> [--prefix p_] [--only opId,...] [--tenant <slug>]
                       [--base-url <url>] [--dry-run]
                                       (OpenAPI 3.0/3.1, JSON or YAML: one http tool per operation)
  remote attach <slug> <prefix> <url> [--secret <name>] [--tools a,b]
                                       (a remote MCP server: its tools served as <prefix><name>)
  remote detach <slug> <prefix>
  remote list [<slug>]
  key issue <slug> [--label <text>] [--expires <when>]
  key list [<slug>]
  key rotate <key id> [--old-expires <when>] [--expires <when>]
  key revoke <key id>
  key tools <key id> <tool,...>|all    (narrows the key to some of its tenant's tools)
  member add <slug> <email or user id> [--role owner|admin|member]
  member remove <slug> <email or user id>
  member list [<slug>]
  member limits <slug> <email or user id> [--requests-per-minute <n>|none]
                [--calls-per-day <n>|none] [--calls-per-month <n>|none]
                                       (the user's caps in that tenant, on top of the tenant's;
                                        none clears one, a limit not given keeps its value)
  user create <email> [--password <text>] [--name <full name>]
  user token <email> --password <text> [--oauth]
      an access token as Supabase Auth issues it; --oauth goes through the OAuth server
      (registers a client, authorizes, consents, exchanges the code) so it carries client_id
  usage <slug> [--since <ago>] [--by tool|key|user|day]   (default: the last 30 days, by tool)
  usage prune [--days <n>]             (roll up and delete raw events older than n days; 30)

<when> is an ISO date-time, "now", or a duration from now such as 30m, 24h, 90d.
<ago> is an ISO date-time or a duration back from now such as 24h, 7d.
--json prints one JSON document. Errors are one line on stderr and exit status 1.
Target: the local stack from \`deno task dev\`, or SUPABASE_URL with SUPABASE_SERVICE_ROLE_KEY
(or SUPABASE_SECRET_KEY) for a hosted project.`;

class UsageError extends Error {}

interface Target {
  url: string;
  key: string;
}

interface Parsed {
  words: string[];
  json: boolean;
  name?: string;
  tools?: string;
  config?: string;
  label?: string;
  expires?: string;
  oldExpires?: string;
  role?: string;
  password?: string;
  oauth: boolean;
  since?: string;
  by?: string;
  days?: string;
  prefix?: string;
  only?: string;
  tenant?: string;
  baseUrl?: string;
  dryRun: boolean;
  secret?: string;
  requestsPerMinute?: string;
  callsPerDay?: string;
  callsPerMonth?: string;
}

function parse(args: string[]): Parsed {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      name: { type: "string" },
      tools: { type: "string" },
      config: { type: "string" },
      label: { type: "string" },
      expires: { type: "string" },
      "old-expires": { type: "string" },
      role: { type: "string" },
      password: { type: "string" },
      oauth: { type: "boolean", default: false },
      since: { type: "string" },
      by: { type: "string" },
      days: { type: "string" },
      prefix: { type: "string" },
      only: { type: "string" },
      tenant: { type: "string" },
      "base-url": { type: "string" },
      "dry-run": { type: "boolean", default: false },
      secret: { type: "string" },
      "requests-per-minute": { type: "string" },
      "calls-per-day": { type: "string" },
      "calls-per-month": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help || positionals.length === 0) {
    console.log(USAGE);
    Deno.exit(positionals.length === 0 && !values.help ? 1 : 0);
  }
  return {
    words: positionals,
    json: values.json,
    name: values.name,
    tools: values.tools,
    config: values.config,
    label: values.label,
    expires: values.expires,
    oldExpires: values["old-expires"],
    role: values.role,
    password: values.password,
    oauth: values.oauth,
    since: values.since,
    by: values.by,
    days: values.days,
    prefix: values.prefix,
    only: values.only,
    tenant: values.tenant,
    baseUrl: values["base-url"],
    dryRun: values["dry-run"],
    secret: values.secret,
    requestsPerMinute: values["requests-per-minute"],
    callsPerDay: values["calls-per-day"],
    callsPerMonth: values["calls-per-month"],
  };
}

async function target(): Promise<Target> {
  const url = Deno.env.get("SUPABASE_URL");
  if (url) {
    const key = Deno.env.get("SUPABASE_SERVICE_ROLE_KEY") ?? Deno.env.get("SUPABASE_SECRET_KEY");
    if (!key) {
      throw new UsageError(
        "SUPABASE_URL is set but no service key: set SUPABASE_SERVICE_ROLE_KEY or SUPABASE_SECRET_KEY.",
      );
    }
    return { url, key };
  }
  let dev: { supabase_url?: string; service_role_key?: string };
  try {
    dev = JSON.parse(await Deno.readTextFile(devJsonPath()));
  } catch {
    throw new UsageError(
      "No local stack found: start it with `deno task dev`, or set SUPABASE_URL and a service key.",
    );
  }
  if (!dev.supabase_url || !dev.service_role_key) {
    throw new UsageError(`${devJsonPath()} is incomplete; restart \`deno task dev\`.`);
  }
  return { url: dev.supabase_url, key: dev.service_role_key };
}

/** ISO date-time, "now", or a duration from now (30m, 24h, 90d). */
export function parseWhen(value: string, now = Date.now()): string {
  if (value === "now") return new Date(now).toISOString();
  const duration = /^(\d+)(m|h|d)$/.exec(value);
  if (duration) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[duration[2] as "m" | "h" | "d"];
    return new Date(now + Number(duration[1]) * unit).toISOString();
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new UsageError(`"${value}" is not a time: use an ISO date-time, now, or e.g. 24h / 90d.`);
  }
  return new Date(ms).toISOString();
}

/** ISO date-time, or a duration back from now (24h, 7d). */
export function parseSince(value: string, now = Date.now()): string {
  const duration = /^(\d+)(m|h|d)$/.exec(value);
  if (!duration) return parseWhen(value, now);
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[duration[2] as "m" | "h" | "d"];
  return new Date(now - Number(duration[1]) * unit).toISOString();
}

function toolList(value: string): string[] {
  return value.split(",").map((name) => name.trim()).filter((name) => name !== "");
}

function jsonArg(value: string, what: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw new UsageError(`${what} must be JSON, e.g. '{"http":{"base_url":"https://…"}}'.`);
  }
}

interface Plan {
  fn: string;
  args: Record<string, unknown>;
  show: Show;
  /** What --json prints, when more than the SQL function's answer. */
  json?: (value: unknown) => unknown;
}

/** Which SQL function a command calls, with what, and how to show the answer. */
async function plan(p: Parsed): Promise<Plan> {
  const [noun, verb, ...rest] = p.words;
  const need = (count: number, usage: string) => {
    if (rest.length < count) throw new UsageError(`usage: deno task admin ${usage}`);
  };
  const when = (value: string | undefined) => value === undefined ? undefined : parseWhen(value);
  switch (`${noun} ${verb ?? ""}`.trim()) {
    case "tenant list":
      return { fn: "list_tenants", args: {}, show: showTenants };
    case "tenant show":
      need(1, "tenant show <slug>");
      return { fn: "get_tenant", args: { p_slug: rest[0] }, show: showTenant };
    case "tenant create":
      need(1, "tenant create <slug> --name <name> [--tools a,b] [--config <json>]");
      if (!p.name) throw new UsageError("tenant create needs --name <display name>.");
      return {
        fn: "create_tenant",
        args: {
          p_slug: rest[0],
          p_name: p.name,
          p_enabled_tools: toolList(p.tools ?? ""),
          p_config: p.config === undefined ? {} : jsonArg(p.config, "--config"),
        },
        show: showTenant,
      };
    case "tenant status":
      need(2, "tenant status <slug> active|disabled");
      if (!["active", "disabled"].includes(rest[1])) {
        throw new UsageError(`status must be active or disabled, not "${rest[1]}".`);
      }
      return {
        fn: "set_tenant_status",
        args: { p_slug: rest[0], p_status: rest[1] },
        show: showTenant,
      };
    case "tenant config":
      need(2, "tenant config <slug> <json>");
      return {
        fn: "set_tenant_config",
        args: { p_slug: rest[0], p_config: jsonArg(rest[1], "The config") },
        show: showTenant,
      };
    case "tools list":
      return { fn: "list_tools", args: {}, show: showTools };
    case "tools import-openapi": {
      need(1, "tools import-openapi <file> [--prefix p_] [--only opId,...] [--tenant <slug>]");
      const { args, report } = await importArgs(rest[0], {
        prefix: p.prefix,
        only: p.only === undefined ? undefined : toolList(p.only),
        tenant: p.tenant,
        baseUrl: p.baseUrl,
        dryRun: p.dryRun,
      }).catch((err: Error) => {
        throw new UsageError(err.message);
      });
      return {
        fn: "import_http_tools",
        args,
        show: (value) => showImport(report, value),
        json: (value) => ({ ...(value as Json), ...report }),
      };
    }
    case "tools set":
      need(2, "tools set <slug> <tool,...>");
      return {
        fn: "set_enabled_tools",
        args: { p_slug: rest[0], p_tools: toolList(rest[1]) },
        show: showTenant,
      };
    case "tools enable":
    case "tools disable":
      need(2, `tools ${verb} <slug> <tool...>`);
      return {
        fn: `${verb}_tools`,
        args: { p_slug: rest[0], p_tools: rest.slice(1).flatMap(toolList) },
        show: showTenant,
      };
    case "remote attach":
      need(3, "remote attach <slug> <prefix> <url> [--secret <name>] [--tools a,b]");
      return {
        fn: "attach_remote_server",
        args: {
          p_tenant_slug: rest[0],
          p_prefix: rest[1],
          p_url: rest[2],
          p_secret: p.secret ?? null,
          p_allowed_tools: p.tools === undefined ? null : toolList(p.tools),
        },
        show: showRemote,
      };
    case "remote detach":
      need(2, "remote detach <slug> <prefix>");
      return {
        fn: "detach_remote_server",
        args: { p_tenant_slug: rest[0], p_prefix: rest[1] },
        show: (value) => `detached ${showRemote(value)}`,
      };
    case "remote list":
      return {
        fn: "list_remote_servers",
        args: { p_tenant_slug: rest[0] ?? null },
        show: (value) => (value as Json[]).map(showRemote).join("\n") || "(no remote servers)",
      };
    case "key issue":
      need(1, "key issue <slug> [--label <text>] [--expires <when>]");
      return {
        fn: "issue_api_key",
        args: {
          p_tenant_slug: rest[0],
          p_label: p.label ?? null,
          p_expires_at: when(p.expires) ?? null,
        },
        show: showIssued,
      };
    case "key list":
      return { fn: "list_api_keys", args: { p_tenant_slug: rest[0] ?? null }, show: showKeys };
    case "key rotate": {
      need(1, "key rotate <key id> [--old-expires <when>] [--expires <when>]");
      const args: Record<string, unknown> = { p_key_id: keyId(rest[0]) };
      if (p.oldExpires !== undefined) args.p_old_key_expires_at = when(p.oldExpires);
      if (p.expires !== undefined) args.p_expires_at = when(p.expires);
      return { fn: "rotate_api_key", args, show: showIssued };
    }
    case "key revoke":
      need(1, "key revoke <key id>");
      return { fn: "revoke_api_key", args: { p_key_id: keyId(rest[0]) }, show: showKey };
    case "key tools":
      need(2, "key tools <key id> <tool,...>|all");
      return {
        fn: "set_key_tools",
        args: { p_key_id: keyId(rest[0]), p_tools: rest[1] === "all" ? null : toolList(rest[1]) },
        show: (value) =>
          `${showKey(value)}\n  tools: ${
            ((value as Json).allowed_tools as string[] | null)?.join(", ") ?? "all of the tenant's"
          }`,
      };
    case "member add":
      need(2, "member add <slug> <email or user id> [--role owner|admin|member]");
      if (p.role !== undefined && !["owner", "admin", "member"].includes(p.role)) {
        throw new UsageError(`role must be owner, admin or member, not "${p.role}".`);
      }
      return {
        fn: "add_member",
        args: { p_tenant_slug: rest[0], p_user: rest[1], p_role: p.role ?? "member" },
        show: showMember,
      };
    case "member remove":
      need(2, "member remove <slug> <email or user id>");
      return {
        fn: "remove_member",
        args: { p_tenant_slug: rest[0], p_user: rest[1] },
        show: (value) => `removed ${showMember(value)}`,
      };
    case "member list":
      return {
        fn: "list_members",
        args: { p_tenant_slug: rest[0] ?? null },
        show: (value) => (value as Json[]).map(showMember).join("\n") || "(no members)",
      };
    case "member limits":
      need(2, "member limits <slug> <email or user id> [--requests-per-minute <n>|none] …");
      return {
        fn: "set_member_limits",
        args: { p_tenant_slug: rest[0], p_user: rest[1], p_limits: limitArgs(p) },
        show: (value) => `${showMember(value)}${showLimits(value) ? "" : "\tno limits"}`,
      };
    case "usage prune": {
      const days = Number(p.days ?? "30");
      if (!Number.isInteger(days) || days < 1) {
        throw new UsageError(`--days must be a whole number of days ≥ 1, not "${p.days}".`);
      }
      return { fn: "prune_usage", args: { p_retention_days: days }, show: showPruned };
    }
    default:
      if (noun === "usage" && verb !== undefined) {
        const by = p.by ?? "tool";
        if (!["tool", "key", "user", "day"].includes(by)) {
          throw new UsageError(`--by must be tool, key, user or day, not "${by}".`);
        }
        return {
          fn: "usage_report",
          args: {
            p_tenant_slug: verb,
            p_since: p.since === undefined ? null : parseSince(p.since),
            p_by: by,
          },
          show: showUsage,
        };
      }
      throw new UsageError(`Unknown command "${p.words.join(" ")}".\n${USAGE}`);
  }
}

/** The limits given on the command line: a number sets one, "none" clears it (null). */
function limitArgs(p: Parsed): Record<string, number | null> {
  const limits: Record<string, number | null> = {};
  const given = [
    ["requests_per_minute", p.requestsPerMinute],
    ["calls_per_day", p.callsPerDay],
    ["calls_per_month", p.callsPerMonth],
  ] as const;
  for (const [name, value] of given) {
    if (value === undefined) continue;
    if (value === "none") {
      limits[name] = null;
      continue;
    }
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > 2_147_483_647) {
      throw new UsageError(
        `--${name.replaceAll("_", "-")} must be a whole number ≥ 1, or none, not "${value}".`,
      );
    }
    limits[name] = n;
  }
  return limits;
}

/** Accepts the key id, the display prefix (mcpk_<id>), or a whole key; sends only the id. */
function keyId(value: string): string {
  const match = /^(?:mcpk_)?([0-9a-f]{12})(?:_[0-9a-f]{70})?$/i.exec(value.trim());
  if (!match) {
    throw new UsageError(`"${value}" is not a key id (the 12 characters after mcpk_).`);
  }
  return match[1].toLowerCase();
}

type Json = Record<string, unknown>;
type Show = (value: unknown) => string;

const showTenant: Show = (value) => {
  const t = value as Json;
  return [
    `${t.slug}  (${t.name})  ${t.status}`,
    `  tools: ${(t.enabled_tools as string[]).join(", ") || "(none)"}`,
    `  config: ${JSON.stringify(t.config)}`,
    `  active keys: ${t.active_keys}`,
  ].join("\n");
};

const showTenants: Show = (value) =>
  (value as Json[]).map((t) =>
    `${t.slug}\t${t.status}\t${t.active_keys} key(s)\t${(t.enabled_tools as string[]).join(",")}`
  ).join("\n") || "(no tenants)";

const showKey: Show = (value) => {
  const k = value as Json;
  const times = ["expires_at", "revoked_at", "last_used_at"]
    .filter((field) => k[field])
    .map((field) => `${field.replace("_at", "")} ${k[field]}`);
  return `${k.display_prefix}…  ${k.tenant}  ${k.state}  ${k.label ?? ""}  ${times.join("  ")}`
    .replace(/\s+$/, "");
};

const showKeys: Show = (value) => (value as Json[]).map(showKey).join("\n") || "(no keys)";

const showIssued: Show = (value) => {
  const k = value as Json;
  const lines = [
    `key: ${k.key}`,
    "  Shown once: store it now. It can't be recovered, only rotated or revoked.",
    `  id ${k.key_id}, tenant ${k.tenant}${k.expires_at ? `, expires ${k.expires_at}` : ""}`,
  ];
  if (k.old_key) lines.push(`  replaces ${showKey(k.old_key)}`);
  return lines.join("\n");
};

const showMember: Show = (value) => {
  const m = value as Json;
  const limits = showLimits(m);
  return `${m.tenant}\t${m.email ?? m.user_id}\t${m.role}${limits ? `\t${limits}` : ""}`;
};

/** A row's caps, e.g. "60/min, 1000 calls/day"; empty when it has none. */
function showLimits(value: unknown): string {
  const row = value as Json;
  return [
    row.requests_per_minute == null ? "" : `${row.requests_per_minute}/min`,
    row.calls_per_day == null ? "" : `${row.calls_per_day} calls/day`,
    row.calls_per_month == null ? "" : `${row.calls_per_month} calls/month`,
  ].filter((part) => part !== "").join(", ");
}

const showRemote: Show = (value) => {
  const r = value as Json;
  const tools = r.allowed_tools ? (r.allowed_tools as string[]).join(",") : "all tools";
  return `${r.tenant}\t${r.prefix}\t${r.url}\t${
    r.secret ? `secret ${r.secret}` : "no credential"
  }\t${tools}${r.enabled ? "" : "\t(disabled)"}`;
};

const showTools: Show = (value) =>
  (value as Json[]).map((t) =>
    `${t.name}\t${t.family}\tv${t.version}\t${t.enabled_for} tenant(s)${
      t.tenant ? `\tonly ${t.tenant}` : ""
    }\t${t.description}`
  ).join("\n");

const showUsage: Show = (value) => {
  const u = value as Json & { rows: Json[] };
  const head = `${u.tenant}: tool calls since ${u.since}, by ${u.by}`;
  if (u.rows.length === 0) return `${head}\n  (no calls)`;
  const lines = u.rows.map((r) =>
    `  ${
      String(r.email ?? (r.group_key || `(${u.by === "user" ? "API keys" : "users"})`)).padEnd(24)
    } ` +
    `${String(r.calls).padStart(8)} calls ` +
    `${
      String(r.errors).padStart(6)
    } errors   p50 ${r.latency_p50_ms} ms  p95 ${r.latency_p95_ms} ms` +
    `  p99 ${r.latency_p99_ms} ms  max ${r.latency_max_ms} ms`
  );
  return [head, ...lines].join("\n");
};

const showPruned: Show = (value) => {
  const r = value as Json;
  return `events before ${r.cutoff}: ${r.deleted_events} deleted, ${r.rolled_up_rows} daily ` +
    `row(s) rolled up; ${r.deleted_windows} old limiter window(s) deleted`;
};

async function main(): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parse(Deno.args);
  } catch (err) {
    console.error(`admin: ${(err as Error).message}`);
    return 1;
  }
  try {
    if (parsed.words[0] === "user") {
      const { data, show } = await userCommand(parsed, await target());
      console.log(parsed.json ? JSON.stringify(data, null, 2) : show(data));
      return 0;
    }
    const { fn, args, show, json } = await plan(parsed);
    const { url, key } = await target();
    const client = createClient(url, key, {
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    });
    const { data, error } = await client.rpc(fn, args);
    if (error) {
      const hint = error.hint ? ` ${error.hint}` : "";
      return report(parsed.json, `${error.message}${hint}`, error.code);
    }
    console.log(parsed.json ? JSON.stringify(json ? json(data) : data, null, 2) : show(data));
    return 0;
  } catch (err) {
    if (err instanceof AuthCommandError) return report(parsed.json, err.message, err.code);
    const message = err instanceof UsageError
      ? err.message
      : `could not reach the project: ${(err as Error).message}`;
    return report(parsed.json, message, err instanceof UsageError ? "usage" : "unreachable");
  }
}

class AuthCommandError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

const NO_SESSION = { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false };

/** `user create|token`: Supabase Auth's own API (users are Auth's, not the database's to mint). */
async function userCommand(p: Parsed, at: Target): Promise<{ data: unknown; show: Show }> {
  const [, verb, email] = p.words;
  if (!email || !["create", "token"].includes(verb ?? "")) {
    throw new UsageError("usage: deno task admin user create|token <email> [--password <text>]");
  }
  const admin = createClient(at.url, at.key, { auth: NO_SESSION });
  if (verb === "create") {
    const password = p.password ?? crypto.randomUUID();
    const { data, error } = await admin.auth.admin.createUser({
      email,
      password,
      email_confirm: true,
      user_metadata: p.name ? { full_name: p.name } : {},
    });
    if (error) throw new AuthCommandError(error.message, error.code ?? "auth_error");
    const shown = { id: data.user.id, email: data.user.email, password };
    return {
      data: shown,
      show: () => `user ${shown.email}  id ${shown.id}\n  password: ${password}`,
    };
  }
  if (!p.password) throw new UsageError("user token needs --password <the user's password>.");
  const session = p.oauth
    ? await oauthToken(at, email, p.password)
    : await passwordToken(at, email, p.password);
  const claims = JSON.parse(
    new TextDecoder().decode(
      Uint8Array.from(
        atob(session.access_token.split(".")[1].replaceAll("-", "+").replaceAll("_", "/")),
        (c) => c.charCodeAt(0),
      ),
    ),
  );
  return {
    data: { access_token: session.access_token, expires_at: session.expires_at, claims },
    show: () =>
      `access token (expires ${new Date(Number(claims.exp) * 1000).toISOString()}):\n` +
      `${session.access_token}\n  tenant_id ${claims.tenant_id ?? "(none)"}, role ${
        claims.tenant_role ?? "-"
      }${claims.client_id ? `, client_id ${claims.client_id}` : ""}`,
  };
}

interface Session {
  access_token: string;
  expires_at?: number;
}

async function passwordToken(at: Target, email: string, password: string): Promise<Session> {
  const anon = createClient(at.url, at.key, { auth: NO_SESSION });
  const { data, error } = await anon.auth.signInWithPassword({ email, password });
  if (error || !data.session) {
    throw new AuthCommandError(error?.message ?? "no session", error?.code ?? "auth_error");
  }
  return data.session;
}

/** The OAuth 2.1 authorization-code flow with PKCE, as an MCP client and the consent page do it. */
async function oauthToken(at: Target, email: string, password: string): Promise<Session> {
  const issuer = `${at.url.replace(/\/$/, "")}/auth/v1`;
  const redirectUri = "http://127.0.0.1:8976/callback";
  const fail = async (what: string, res: Response) => {
    throw new AuthCommandError(`${what}: ${res.status} ${await res.text()}`, "oauth_error");
  };
  const registered = await fetch(`${issuer}/oauth/clients/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ client_name: "deno task admin", redirect_uris: [redirectUri] }),
  });
  if (!registered.ok) await fail("client registration", registered);
  const { client_id: clientId } = await registered.json();
  const verifier = crypto.randomUUID() + crypto.randomUUID();
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)),
  );
  const challenge = btoa(String.fromCharCode(...digest)).replaceAll("+", "-")
    .replaceAll("/", "_").replace(/=+$/, "");
  const authorize = new URL(`${issuer}/oauth/authorize`);
  for (
    const [name, value] of Object.entries({
      response_type: "code",
      client_id: clientId,
      redirect_uri: redirectUri,
      code_challenge: challenge,
      code_challenge_method: "S256",
      state: crypto.randomUUID(),
    })
  ) authorize.searchParams.set(name, value);
  const redirected = await fetch(authorize, { redirect: "manual" });
  const consentUrl = redirected.headers.get("location");
  await redirected.body?.cancel();
  const authorizationId = consentUrl && new URL(consentUrl).searchParams.get("authorization_id");
  if (!authorizationId) {
    throw new AuthCommandError("authorize did not lead to consent", "oauth_error");
  }

  // What the consent page does: sign in, then approve.
  const user = createClient(at.url, at.key, { auth: NO_SESSION });
  const signIn = await user.auth.signInWithPassword({ email, password });
  if (signIn.error) throw new AuthCommandError(signIn.error.message, signIn.error.code ?? "auth");
  const details = await user.auth.oauth.getAuthorizationDetails(authorizationId);
  if (details.error) {
    throw new AuthCommandError(details.error.message, details.error.code ?? "oauth_error");
  }
  const approved = await user.auth.oauth.approveAuthorization(authorizationId, {
    skipBrowserRedirect: true,
  });
  if (approved.error) {
    throw new AuthCommandError(approved.error.message, approved.error.code ?? "oauth_error");
  }
  const code = new URL(approved.data.redirect_url).searchParams.get("code");
  const token = await fetch(`${issuer}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: code ?? "",
      client_id: clientId,
      redirect_uri: redirectUri,
      code_verifier: verifier,
    }),
  });
  if (!token.ok) await fail("token exchange", token);
  return await token.json();
}

function report(json: boolean, message: string, code: string): number {
  console.error(`admin: ${message.split("\n")[0]}`);
  if (json) console.log(JSON.stringify({ error: message.split("\n")[0], code }));
  return 1;
}

if (import.meta.main) Deno.exit(await main());
