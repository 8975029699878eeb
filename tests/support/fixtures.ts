/** Tenants, keys and in-process apps on the shared test stack. */
import { createApp } from "../../supabase/functions/mcp-tools-server/http/app.ts";
import { type Config, loadConfig } from "../../supabase/functions/mcp-tools-server/config.ts";
import { type Logger, silentLogger } from "../../supabase/functions/mcp-tools-server/lib/log.ts";
import { createToolServices } from "../../supabase/functions/mcp-tools-server/compose.ts";
import type { Resolver } from "../../supabase/functions/mcp-tools-server/upstream/guarded_fetch.ts";
import {
  createMetrics,
  type Metrics,
} from "../../supabase/functions/mcp-tools-server/lib/metrics.ts";
import {
  supabaseTenantStore,
  type TenantStore,
} from "../../supabase/functions/mcp-tools-server/data/tenant_store.ts";
import type { ToolCatalog } from "../../supabase/functions/mcp-tools-server/tools/catalog.ts";
import type {
  ToolDefinition,
  ToolServices,
} from "../../supabase/functions/mcp-tools-server/tools/contract.ts";
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
}

/**
 * The real app, in this process, against the real stack (supabase-js → gateway → PostgREST →
 * Postgres), with the same tool services index.ts builds. `supabaseUrl` may point elsewhere to
 * simulate an outage of the store and the tools' database alike.
 */
export function inProcessApp(
  options: {
    config?: Partial<Config>;
    supabaseUrl?: string;
    store?: TenantStore;
    catalog?: ToolCatalog;
    /** Default: the real services (tenant secrets, guarded upstream fetch) on the test stack. */
    services?: ToolServices;
    /** Name resolution for the upstream address policy; default getaddrinfo. */
    resolve?: Resolver;
    log?: Logger;
  } = {},
): TestApp {
  const config = loadConfig(() => undefined, options.config);
  const metrics = createMetrics();
  const clock = new ManualClock();
  const access = {
    url: options.supabaseUrl ?? stack.info.supabaseUrl,
    key: stack.info.serviceRoleKey,
  };
  const store = options.store ?? supabaseTenantStore(access, config.storeTimeoutMs);
  const app = createApp({
    config,
    store,
    clock,
    metrics,
    catalog: options.catalog,
    services: options.services ?? createToolServices({
      config,
      access: {
        url: options.supabaseUrl ?? stack.info.supabaseUrl,
        key: stack.info.serviceRoleKey,
      },
      clock,
      tenantSecretsKey: stack.info.tenantSecretsKey,
      resolve: options.resolve,
    }),
    log: options.log ?? silentLogger,
  });
  const base = `http://function.test`;
  return {
    url: base + MCP_PATH,
    metrics,
    clock,
    fetch: (input, init) => Promise.resolve(app.fetch(new Request(input, init))),
  };
}
