/**
 * The environment reader (config.ts): every kind of setting, its default when unset or blank, and
 * the message for each kind of bad value, naming the variable. All problems are named at once.
 */
import { deepStrictEqual, equal, throws } from "node:assert/strict";
import {
  ConfigError,
  configTable,
  loadConfig,
} from "../../supabase/functions/mcp-tools-server/config.ts";

const config = (env: Record<string, string>) => loadConfig((name) => env[name]);

Deno.test("config: whole numbers — default when unset or blank, refused when not whole and ≥ 0", () => {
  equal(config({}).serverCacheMax, 100);
  equal(config({ SERVER_CACHE_MAX: "  " }).serverCacheMax, 100);
  equal(config({ SERVER_CACHE_MAX: " 7 " }).serverCacheMax, 7);
  equal(config({ SERVER_CACHE_MAX: "0" }).serverCacheMax, 0);
  for (const bad of ["-1", "1.5", "lots", "1e400"]) {
    throws(
      () => config({ SERVER_CACHE_MAX: bad }),
      (err: Error) =>
        err instanceof ConfigError &&
        err.message === `SERVER_CACHE_MAX must be a whole number ≥ 0, got "${bad}"`,
    );
  }
  equal(config({}).port, undefined);
  equal(config({ MCP_FUNCTION_PORT: "8000" }).port, 8000);
});

Deno.test("config: text is trimmed, blank is unset; defaults where declared", () => {
  equal(config({ MCP_METRICS_TOKEN: "  " }).metricsToken, undefined);
  equal(config({ MCP_METRICS_TOKEN: " t " }).metricsToken, "t");
  equal(config({}).clientAddressHeader, "x-forwarded-for");
  equal(
    config({ CLIENT_ADDRESS_HEADER: " CF-Connecting-IP " }).clientAddressHeader,
    "cf-connecting-ip",
  );
  equal(config({}).userAuth.audience, "authenticated");
  equal(config({ AUTH_AUDIENCE: " Mine " }).userAuth.audience, "Mine");
});

Deno.test("config: flags read on/off in their spellings, anything else is refused", () => {
  for (const on of ["1", "on", "TRUE", " yes "]) {
    equal(config({ MCP_USER_TOKENS: on }).userAuth.enabled, true);
  }
  for (const off of ["", "0", "Off", "false", "no"]) {
    equal(config({ MCP_USER_TOKENS: off }).userAuth.enabled, false);
  }
  throws(
    () => config({ MCP_USER_TOKENS: "maybe" }),
    /^ConfigError: MCP_USER_TOKENS must be on or off, got "maybe"$/,
  );
});

Deno.test("config: lists and origins", () => {
  deepStrictEqual(config({ MCP_ALLOWED_HOSTS: " A.example , ,b.example" }).allowedHosts, [
    "a.example",
    "b.example",
  ]);
  deepStrictEqual(config({}).allowedOrigins, []);
  deepStrictEqual(
    config({ MCP_ALLOWED_ORIGINS: "https://app.example.com/path, http://x.test:8080" })
      .allowedOrigins,
    ["https://app.example.com", "http://x.test:8080"],
  );
  equal(config({ MCP_ALLOWED_ORIGINS: "https://a.example,*" }).allowedOrigins, "*");
  throws(
    () => config({ MCP_ALLOWED_ORIGINS: "app.example.com" }),
    /^ConfigError: MCP_ALLOWED_ORIGINS "app.example.com" is not an origin like https:\/\/app.example.com$/,
  );
});

Deno.test("config: allow-list entries must be host:port, checked at start-up", () => {
  deepStrictEqual(
    config({ UPSTREAM_ALLOW_HOSTS: "127.0.0.1:8787, [::1]:9000,api.dev.test:*" })
      .upstreamAllowHosts,
    ["127.0.0.1:8787", "[::1]:9000", "api.dev.test:*"],
  );
  throws(
    () => config({ UPSTREAM_ALLOW_HOSTS: "127.0.0.1:8787,localhost" }),
    /^ConfigError: UPSTREAM_ALLOW_HOSTS entry "localhost" must be host:port \(e\.g\. 127/,
  );
});

Deno.test("config: every malformed variable is named in one error", () => {
  throws(
    () => config({ SERVER_CACHE_MAX: "x", MCP_OAUTH: "sometimes", READY_CACHE_MS: "-2" }),
    (err: Error) =>
      err.message ===
        'SERVER_CACHE_MAX must be a whole number ≥ 0, got "x"; MCP_OAUTH must be on or off, ' +
          'got "sometimes"; READY_CACHE_MS must be a whole number ≥ 0, got "-2"',
  );
});

Deno.test("config: the README table lists every variable with its default", () => {
  const table = configTable();
  equal(table.split("\n")[0], "| variable | default | what it does |");
  equal(
    table.split("\n").find((line) => line.startsWith("| `SERVER_CACHE_MAX`")),
    "| `SERVER_CACHE_MAX` | `100` | Upper bound on built servers (one per distinct tool set). |",
  );
  equal(
    table.split("\n").find((line) => line.startsWith("| `MCP_METRICS_TOKEN`")),
    "| `MCP_METRICS_TOKEN` | — | Bearer token for `GET /metrics`; the route does not exist without it. |",
  );
});
