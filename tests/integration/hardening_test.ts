/**
 * Small refusals that used to end as "failed unexpectedly": each now gets an answer the caller can
 * act on, and a credential echoed in any form stays masked. The real app against the real stack.
 */
import { equal, match, ok } from "node:assert/strict";
import { startFakeApi } from "../support/fake_api.ts";
import { CRM_TOOLS, crmAs, toolErrorOf } from "../support/crm.ts";
import { inProcessApp, tenantWithKey } from "../support/fixtures.ts";
import { addHttpTool, httpTenant, setSecret } from "../support/http_fixtures.ts";
import { callTool, post } from "../support/mcp_client.ts";

const route = (path: string, extra: Record<string, unknown> = {}) => ({
  method: "GET",
  path,
  input_schema: {
    type: "object",
    properties: { arg: { type: "string" }, label: { type: "string" } },
    required: ["arg"],
  },
  headers: { "X-Label": "label" },
  ...extra,
});

Deno.test("hardening: basic auth's base64 echoed alone is masked; deep JSON and non-Latin-1 headers get clear answers", async () => {
  const api = startFakeApi("h");
  try {
    const tools = {
      credential: await addHttpTool(route("/credential/{arg}")),
      deep: await addHttpTool(route("/deep/{arg}")),
    };
    const secret = `pw_${crypto.randomUUID()}`;
    const tenant = await httpTenant(Object.values(tools), {
      http: {
        base_url: `${api.url}/t/h`,
        auth: { type: "basic", username: "svc", secret: "api_password" },
      },
    });
    await setSecret(tenant.slug, "api_password", secret);
    const app = inProcessApp({ config: { upstreamAllowHosts: [api.hostPort] } });
    const call = (tool: string, args: Record<string, unknown>) =>
      post(app, callTool(tool, args), { key: tenant.key });

    const encoded = btoa(`svc:${secret}`);
    const echoed = await call(tools.credential, { arg: "x" });
    ok(!echoed.text.includes(encoded), `base64 credential leaked: ${echoed.text}`);
    ok(!echoed.text.includes(secret));
    match(echoed.body.result.content[0].text, /\[redacted\]/);

    const deep = await call(tools.deep, { arg: "100000" });
    ok(!deep.text.includes("failed unexpectedly"), deep.text.slice(0, 300));
    match(deep.body.result.content[0].text, /JSON nested deeper than 64 levels/);

    const header = await call(tools.credential, { arg: "x", label: "naïve ☃" });
    equal(header.body.result.isError, true);
    match(header.body.result.content[0].text, /sent as the X-Label header.*Latin-1.*"☃"/);
    ok(!header.text.includes("failed unexpectedly"));
  } finally {
    await api.close();
  }
});

Deno.test("hardening: a lone UTF-16 surrogate in CRM text is refused with a reason, not a failure", async () => {
  const { key } = await tenantWithKey(CRM_TOOLS);
  const crm = crmAs(inProcessApp(), key);
  const reply = await crm.write({
    action: "create",
    entity: "company",
    fields: { name: "Bad \ud800 name" },
  });
  const text = toolErrorOf(reply);
  match(text, /unpaired UTF-16 surrogate/);
  match(text, /name/);
  ok(!text.includes("failed unexpectedly"));
  // Well-formed text, emoji included, goes through.
  const good = await crm.writeOk({
    action: "create",
    entity: "company",
    fields: { name: "Ok 😀" },
  });
  equal(good.name, "Ok 😀");
});
