/** Tenants, keys and in-process apps on the shared test stack. */
import { composeApp, type Overrides } from "../../supabase/functions/mcp-tools-server/compose.ts";
import { type Config, loadConfig } from "../../supabase/functions/mcp-tools-server/config.ts";
import type { TenantStore } from "../../supabase/functions/mcp-tools-server/data/tenant_store.ts";
import type { Background } from "../../supabase/functions/mcp-tools-server/lib/background.ts";
import { type Logger, silentLogger } from "../../supabase/functions/mcp-tools-server/lib/log.ts";
import type { Metrics } from "../../supabase/functions/mcp-tools-server/lib/metrics.ts";
import type {
  ToolDefinition,
  ToolFamily,
  ToolServices,
} from "../../supabase/functions/mcp-tools-server/tools/contract.ts";
import type { Resolver } from "../../supabase/functions/mcp-tools-server/upstream/guarded_fetch.ts";
import { ManualClock } from "./clock.ts";
import { stack } from "./stack.ts";

export const MCP_PATH = "/mcp-tools-server/mcp";

let counter = 0;

/** SQL string literal. */
export function lit(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export interface TestTenant {
  id: string;
  slug: string;
}

export async function createTenant(
  tools: string[],
  options: { status?: "active" | "disabled"; prefix?: string } = {},
): Promise<TestTenant> {
  const slug = `${options.prefix ?? "t"}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
  const toolArray = `array[${tools.map(lit).join(",")}]::text[]`;
  const id = await stack.psql(
    `insert into public.tenants (slug, name, enabled_tools, status)
     values (${lit(slug)}, ${lit(`Tenant ${slug}`)}, ${toolArray}, ${
      lit(options.status ?? "active")
    })
     returning id`,
  );
  return { id: id.trim(), slug };
}

export async function issueKey(
  slug: string,
  options: { expiresAt?: Date } = {},
): Promise<string> {
  const expires = options.expiresAt
    ? `${lit(options.expiresAt.toISOString())}::timestamptz`
    : "null";
  const key = await stack.psql(
    `select public.issue_api_key(${lit(slug)}, 'test', ${expires}) ->> 'key'`,
  );
  return key.trim();
}

/**
 * Lists test-only code tools in the stack's catalog so tenants may enable them. Their family is
 * registered with no config requirements.
 */
export async function registerTools(tools: ToolDefinition[]): Promise<void> {
  const families = [...new Set(tools.map((tool) => tool.family))];
  await stack.psql(
    `insert into public.tool_families (family, description)
     select f, 'Tools used by the test suite.' from unnest(array[${
      families.map(lit).join(",")
    }]::text[]) f
     on conflict (family) do nothing;
     insert into public.tool_catalog (name, family, description) values ${
      tools.map((t) => `(${lit(t.name)}, ${lit(t.family)}, ${lit(t.description)})`).join(", ")
    }
     on conflict (name) do nothing`,
  );
}

/** A tenant with the given tools and one key for it. */
export async function tenantWithKey(
  tools: string[],
  options: { status?: "active" | "disabled" } = {},
) {
  const tenant = await createTenant(tools, options);
  return { ...tenant, key: await issueKey(tenant.slug) };
}

export interface TestApp {
  url: string;
  fetch: typeof fetch;
  metrics: Metrics;
  clock: ManualClock;
  /** Usage writes still running after answers; await `settled()` before reading them back. */
  background: Background;
}

/**
 * The real app, in this process, composed exactly as index.ts composes it, against the real stack
 * (supabase-js → gateway → PostgREST → Postgres). `supabaseUrl` may point elsewhere to simulate an
 * outage of the store and the tools' database alike.
 */
export function inProcessApp(
  options: {
    config?: Partial<Config>;
    supabaseUrl?: string;
    store?: TenantStore;
    families?: readonly ToolFamily[];
    services?: Partial<ToolServices>;
    resolve?: Resolver;
    log?: Logger;
    fetchJwks?: typeof fetch;
  } = {},
): TestApp {
  return composedApp({
    ...options,
    supabase: {
      url: options.supabaseUrl ?? stack.info.supabaseUrl,
      key: stack.info.serviceRoleKey,
    },
    config: { tenantSecretsKey: stack.info.tenantSecretsKey, ...options.config },
  });
}

/**
 * composeApp with a manual clock and a silent log, reached through `fetch`. Usage events are off
 * unless `config.usageBatchSize` is given (their writes outlive a test that doesn't await them).
 */
export function composedApp(
  options: Omit<Overrides, "clock" | "metrics"> & { config?: Partial<Config> },
): TestApp {
  const { config: overrides, ...parts } = options;
  const clock = new ManualClock();
  const { app, metrics, background } = composeApp(
    loadConfig(() => undefined, { usageBatchSize: 0, ...overrides }),
    {
      log: silentLogger,
      ...parts,
      clock,
    },
  );
  return {
    url: `http://function.test${MCP_PATH}`,
    metrics,
    clock,
    background,
    fetch: (input, init) => Promise.resolve(app.fetch(new Request(input, init))),
  };
}
