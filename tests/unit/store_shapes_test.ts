/**
 * The lookups' answers are read with plain checks (data/shape.ts), not a schema library: the same
 * records come out, and an answer of the wrong shape is an error naming the RPC and the field.
 */
import { deepStrictEqual, equal, throws } from "node:assert/strict";
import { parseKeyRecord } from "../../supabase/functions/mcp-tools-server/data/tenant_store.ts";
import { parseMembership } from "../../supabase/functions/mcp-tools-server/data/members.ts";

const tenant = {
  id: "t1",
  slug: "acme",
  name: "Acme",
  status: "active",
  config: { region: "eu" },
  tools: [{ name: "echo", family: "builtin", version: 2, description: "Echo." }],
  extra: "ignored",
};
const keyRow = {
  key_id: "abcdefghijkl",
  key_prefix: "mcpk_abcdefghijkl",
  expires_at: "2026-12-01T00:00:00+00:00",
  revoked_at: null,
  allowed_tools: null,
  tenant,
  remote_servers: [],
  limited: false,
};

Deno.test("shapes: resolve_api_key's answer becomes a key record", () => {
  deepStrictEqual(parseKeyRecord(keyRow), {
    keyId: "abcdefghijkl",
    keyPrefix: "mcpk_abcdefghijkl",
    allowedTools: null,
    expiresAt: Date.parse("2026-12-01T00:00:00Z"),
    revokedAt: null,
    tenant: {
      id: "t1",
      slug: "acme",
      name: "Acme",
      status: "active",
      config: { region: "eu" },
      tools: [{
        name: "echo",
        family: "builtin",
        version: 2,
        description: "Echo.",
        definition: null,
      }],
      remoteServers: [],
    },
    limited: false,
  });
  deepStrictEqual(parseKeyRecord({ ...keyRow, allowed_tools: ["echo"] }).allowedTools, ["echo"]);
});

Deno.test("shapes: a wrong answer names the RPC and the field", () => {
  const wrong: [unknown, RegExp][] = [
    [
      null,
      /^Error: resolve_api_key returned an unexpected shape: the answer: expected an object, got null$/,
    ],
    [{ ...keyRow, key_id: 7 }, /key_id: expected a string, got number/],
    [{ ...keyRow, expires_at: "soon" }, /expires_at: expected a timestamp/],
    [{ ...keyRow, allowed_tools: ["a", 1] }, /allowed_tools\[1\]: expected a string/],
    [
      { ...keyRow, tenant: { ...tenant, config: [] } },
      /tenant\.config: expected an object, got an array/,
    ],
    [
      { ...keyRow, tenant: { ...tenant, tools: [{ ...tenant.tools[0], version: 1.5 }] } },
      /tenant\.tools\[0\]\.version: expected an integer/,
    ],
  ];
  for (const [answer, message] of wrong) throws(() => parseKeyRecord(answer), message);
});

Deno.test("shapes: memberships; remote servers and limits in the key lookup", () => {
  deepStrictEqual(parseMembership({ choices: ["a", "b"] }), { choices: ["a", "b"] });
  deepStrictEqual((parseMembership({ role: "admin", tenant }) as { role: string }).role, "admin");
  throws(
    () => parseMembership({ role: "king", tenant }),
    /resolve_member returned an unexpected shape: role/,
  );
  const server = {
    id: "s1",
    prefix: "docs_",
    url: "https://docs.example/mcp",
    secret: null,
    allowed_tools: null,
    version: "v1",
  };
  const withServer = parseKeyRecord({ ...keyRow, remote_servers: [server], limited: true });
  equal(withServer.limited, true);
  deepStrictEqual(withServer.tenant.remoteServers, [{
    id: "s1",
    prefix: "docs_",
    url: "https://docs.example/mcp",
    secret: null,
    allowedTools: null,
    version: "v1",
  }]);
  throws(
    () => parseKeyRecord({ ...keyRow, remote_servers: [{ ...server, url: null }] }),
    /resolve_api_key returned an unexpected shape: remote_servers\[0\]\.url: expected a string, got null/,
  );
  throws(() => parseKeyRecord({ ...keyRow, limited: undefined }), /limited: expected a boolean/);
});
