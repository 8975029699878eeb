/** The composition root refuses to start without what the tools need, saying what is missing. */
import { equal, match, throws } from "node:assert/strict";
import { composeApp, requireServices } from "../../supabase/functions/mcp-tools-server/compose.ts";
import { ConfigError, loadConfig } from "../../supabase/functions/mcp-tools-server/config.ts";
import { MemoryTenants } from "../support/memory_tenants.ts";

const noEnv = () => undefined;

Deno.test("compose: a missing tool service stops start-up, naming it", () => {
  throws(
    () => requireServices({ upstreamFetch: () => Promise.reject(new Error("unused")) }),
    (err: Error) =>
      err instanceof ConfigError && /Tool services missing: db, tenantSecrets\./.test(err.message),
  );
});

Deno.test("compose: without SUPABASE_URL the app does not start, even with its own store", () => {
  // The tenant store is given, but the CRM and HTTP tools still need the database.
  throws(
    () => composeApp(loadConfig(noEnv), { store: new MemoryTenants() }),
    (err: Error) => err instanceof ConfigError && /SUPABASE_URL is not set/.test(err.message),
  );
  throws(
    () => composeApp(loadConfig((name) => name === "SUPABASE_URL" ? "http://db.test" : undefined)),
    /Neither SUPABASE_SECRET_KEYS nor SUPABASE_SERVICE_ROLE_KEY is set/,
  );
});

Deno.test("compose: the injected environment is enough", async () => {
  const env: Record<string, string> = {
    SUPABASE_URL: "http://127.0.0.1:9",
    SUPABASE_SECRET_KEYS: '{"default":"sb_secret_x"}',
  };
  const { app } = composeApp(loadConfig((name) => env[name]));
  const health = await app.fetch(new Request("http://function.test/mcp-tools-server/health"));
  equal(health.status, 200);
  match(await health.text(), /"status":"ok"/);
});

Deno.test("config: every malformed setting is named at start-up", () => {
  throws(
    () => loadConfig((name) => ({ MAX_BODY_BYTES: "-1", MCP_FUNCTION_PORT: "x" })[name]),
    (err: Error) =>
      err instanceof ConfigError && /MAX_BODY_BYTES/.test(err.message) &&
      /MCP_FUNCTION_PORT/.test(err.message),
  );
  equal(loadConfig((name) => name === "MCP_FUNCTION_PORT" ? "8123" : undefined).port, 8123);
  equal(loadConfig(noEnv).port, undefined);
});
