import { equal, throws } from "node:assert/strict";
import { readApiKey } from "../../supabase/functions/mcp-tools-server/auth/credentials.ts";
import {
  ApiError,
  type ErrorCode,
} from "../../supabase/functions/mcp-tools-server/lib/api_error.ts";

// Shape only: checksums are checked later, by the authenticator (see keys_test.ts).
const KEY = `mcpk_${"a".repeat(12)}_${"0".repeat(70)}`;
const OTHER = `mcpk_${"b".repeat(12)}_${"0".repeat(70)}`;
const SUPABASE_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.c2lnbmF0dXJl";

function request(headers: [string, string][], url = `http://x/mcp-tools-server/mcp`) {
  const h = new Headers();
  for (const [name, value] of headers) h.append(name, value);
  return new Request(url, { method: "POST", headers: h });
}

function refused(headers: [string, string][], code: ErrorCode, url?: string) {
  throws(
    () => readApiKey(request(headers, url)),
    (err) => err instanceof ApiError && err.code === code,
  );
}

Deno.test("credentials: Bearer and x-api-key both carry the key", () => {
  equal(readApiKey(request([["authorization", `Bearer ${KEY}`]])).key, KEY);
  equal(readApiKey(request([["authorization", `bearer   ${KEY} `]])).key, KEY);
  equal(readApiKey(request([["x-api-key", KEY]])).key, KEY);
  equal(readApiKey(request([["authorization", `Bearer ${KEY}`], ["x-api-key", KEY]])).key, KEY);
});

Deno.test("credentials: a Supabase token in Authorization yields to x-api-key", () => {
  equal(
    readApiKey(request([["authorization", `Bearer ${SUPABASE_JWT}`], ["x-api-key", KEY]])).key,
    KEY,
  );
  equal(
    readApiKey(request([["authorization", "Bearer sb_publishable_abc123"], ["x-api-key", KEY]]))
      .key,
    KEY,
  );
});

Deno.test("credentials: missing or empty → MISSING_API_KEY", () => {
  refused([], "MISSING_API_KEY");
  refused([["authorization", "Bearer"]], "MISSING_API_KEY");
  refused([["authorization", "Bearer   "]], "MISSING_API_KEY");
  refused([["x-api-key", ""]], "MISSING_API_KEY");
});

Deno.test("credentials: wrong scheme or shape → INVALID_API_KEY, before any lookup", () => {
  refused([["authorization", `Basic ${btoa("user:pass")}`]], "INVALID_API_KEY");
  refused([["authorization", "Bearer not-a-key"]], "INVALID_API_KEY");
  refused([["authorization", `Bearer ${SUPABASE_JWT}`]], "INVALID_API_KEY");
  refused([["x-api-key", "mcpk_short"]], "INVALID_API_KEY");
  refused([["x-api-key", `${KEY} extra`]], "INVALID_API_KEY");
  refused([["x-api-key", KEY.slice(0, -1)]], "INVALID_API_KEY");
  refused([["x-api-key", KEY.toUpperCase().replace("MCPK", "mcpk")]], "INVALID_API_KEY");
  refused([["x-api-key", `mcpk_${"A".repeat(43)}`]], "INVALID_API_KEY");
});

Deno.test("credentials: two different keys or a repeated header → AMBIGUOUS_CREDENTIALS", () => {
  refused([["authorization", `Bearer ${KEY}`], ["x-api-key", OTHER]], "AMBIGUOUS_CREDENTIALS");
  refused(
    [["authorization", `Bearer ${KEY}`], ["authorization", `Bearer ${OTHER}`]],
    "AMBIGUOUS_CREDENTIALS",
  );
  refused([["x-api-key", KEY], ["x-api-key", KEY]], "AMBIGUOUS_CREDENTIALS");
});

Deno.test("credentials: a key in the URL is refused", () => {
  refused(
    [["authorization", `Bearer ${KEY}`]],
    "CREDENTIALS_IN_URL",
    `http://x/mcp?api_key=${KEY}`,
  );
  refused([], "CREDENTIALS_IN_URL", `http://x/mcp?x=1&token=${KEY}`);
  // Whatever the spelling of the name, and under any name when the value is one of our keys.
  for (const name of ["API_KEY", "apiKey", "x-api-key", "auth", "Access-Token", "TOKEN", "debug"]) {
    refused([["x-api-key", KEY]], "CREDENTIALS_IN_URL", `http://x/mcp?${name}=${KEY}`);
  }
  refused([], "CREDENTIALS_IN_URL", `http://x/mcp?auth=anything`);
  equal(readApiKey(request([["x-api-key", KEY]], `http://x/mcp?debug=1`)).key, KEY);
});
