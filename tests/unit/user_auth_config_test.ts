/** The user-token settings: on/off flags, the issuer from SUPABASE_URL, OAuth only with tokens. */
import { equal, throws } from "node:assert/strict";
import { ConfigError, loadConfig } from "../../supabase/functions/mcp-tools-server/config.ts";

const config = (env: Record<string, string>) => loadConfig((name) => env[name]);

Deno.test("user tokens are off unless switched on; the issuer follows SUPABASE_URL", () => {
  equal(config({}).userAuth.enabled, false);
  equal(config({}).userAuth.oauth, false);
  const on = config({ MCP_USER_TOKENS: "on", SUPABASE_URL: "https://ref.supabase.co/" });
  equal(on.userAuth.enabled, true);
  equal(on.userAuth.issuer, "https://ref.supabase.co/auth/v1");
  equal(on.userAuth.audience, "authenticated");
  equal(
    config({ MCP_USER_TOKENS: "true", AUTH_ISSUER: "https://auth.example.com/auth/v1" }).userAuth
      .issuer,
    "https://auth.example.com/auth/v1",
  );
});

Deno.test("a malformed flag and OAuth without user tokens stop start-up with a clear message", () => {
  throws(() => config({ MCP_USER_TOKENS: "maybe" }), /MCP_USER_TOKENS must be on or off/);
  throws(() => config({ MCP_OAUTH: "on" }), ConfigError);
  throws(() => config({ MCP_OAUTH: "on" }), /MCP_OAUTH needs MCP_USER_TOKENS=on/);
});
