/**
 * Browser access through the gateway and the function process: CORS preflights are answered
 * before authentication, and CORS headers ride on errors too.
 */
import { equal, match, ok } from "node:assert/strict";
import { tenantWithKey } from "../support/fixtures.ts";
import { listTools, post } from "../support/mcp_client.ts";
import { stack } from "../support/stack.ts";

Deno.test("browser: CORS preflight before authentication, CORS headers on errors too", async () => {
  const tenant = await tenantWithKey(["echo"]);
  const origin = `http://localhost:6274`;
  const preflight = await fetch(stack.info.mcpUrl, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization, content-type, mcp-method, mcp-param-region",
    },
  });
  await preflight.body?.cancel();
  equal(preflight.status, 204);
  equal(preflight.headers.get("access-control-allow-origin"), origin);
  const allowed = preflight.headers.get("access-control-allow-headers") ?? "";
  for (
    const header of [
      "authorization",
      "content-type",
      "accept",
      "mcp-protocol-version",
      "mcp-method",
      "mcp-name",
      "mcp-param-region",
    ]
  ) ok(allowed.includes(header), `${header} allowed`);

  const refused = await fetch(stack.info.mcpUrl, {
    method: "OPTIONS",
    headers: { origin: "https://evil.example.com", "access-control-request-method": "POST" },
  });
  equal(refused.status, 403);
  equal((await refused.json()).code, "ORIGIN_NOT_ALLOWED", "a refused preflight is JSON too");
  equal(refused.headers.get("access-control-allow-origin"), null);

  const unauthorized = await post(stack.info.mcpUrl, listTools(), { headers: { origin } });
  equal(unauthorized.status, 401);
  equal(unauthorized.headers.get("access-control-allow-origin"), origin);
  match(unauthorized.headers.get("access-control-expose-headers") ?? "", /www-authenticate/);
  const served = await post(stack.info.mcpUrl, listTools(), {
    key: tenant.key,
    headers: { origin },
  });
  equal(served.headers.get("access-control-allow-origin"), origin);
});
