/** Entry point on Supabase Edge Functions (and locally via `deno task dev`). */
import { createApp } from "./http/app.ts";
import { systemClock } from "./lib/clock.ts";
import { loadConfig, loadSupabaseAccess } from "./config.ts";
import { createToolServices } from "./compose.ts";
import { supabaseTenantStore } from "./data/tenant_store.ts";

const env = (name: string) => Deno.env.get(name);
const config = loadConfig(env);
const access = loadSupabaseAccess(env);
const store = supabaseTenantStore(access, config.storeTimeoutMs);
const services = createToolServices({
  config,
  access,
  clock: systemClock,
  tenantSecretsKey: env("TENANT_SECRETS_KEY") || undefined,
});
const app = createApp({ config, store, services });

// The edge runtime picks the port itself; the local stack asks for a specific one.
const port = env("MCP_FUNCTION_PORT");
Deno.serve(
  port ? { port: Number(port), hostname: "127.0.0.1", onListen: () => {} } : {},
  app.fetch,
);
