/**
 * Tenant isolation of the CRM tools. Two tenants with the same tool set share one cached server;
 * the tenant reaches the tools with each request, so concurrent, interleaved calls must each act
 * for their own tenant, and no id of another tenant's record leads anywhere.
 */
import { deepStrictEqual, equal, match } from "node:assert/strict";
import { CRM_TOOLS, crmAs, invalidParamsOf, toolErrorOf } from "../support/crm.ts";
import { inProcessApp, tenantWithKey } from "../support/fixtures.ts";
import { stack } from "../support/stack.ts";

type Crm = ReturnType<typeof crmAs>;

Deno.test("crm: two tenants on one server, interleaved concurrent calls, each sees its own", async () => {
  const app = inProcessApp();
  // Same tools, listed differently: one fingerprint, so one shared server.
  const a = await tenantWithKey(["crm_write", "crm_read"]);
  const b = await tenantWithKey(["crm_read", "crm_write", "crm_read"]);
  const tenants = [
    { ...a, crm: crmAs(app, a.key, "json"), tag: "alpha" },
    { ...b, crm: crmAs(app, b.key, "sse"), tag: "bravo" },
  ];

  // 2 x 12 writes fired together, alternating tenants; then reads interleaved with more writes.
  const writes = await Promise.all(
    Array.from({ length: 24 }, (_, i) => {
      const t = tenants[i % 2];
      return t.crm.writeOk({
        action: "create",
        entity: "company",
        fields: { name: `Shared name ${i >> 1}`, industry: t.tag },
      }).then((record) => ({ t, record }));
    }),
  );
  for (const { t, record } of writes) equal(record.industry, t.tag);

  const mixed = await Promise.all(
    Array.from({ length: 24 }, (_, i) => {
      const t = tenants[i % 2];
      return i % 4 < 2
        ? t.crm.readOk({ entity: "company", query: "shared name", limit: 100 }).then((page) => ({
          t,
          page,
        }))
        : t.crm.writeOk({
          action: "create",
          entity: "contact",
          fields: { name: `Person ${i}`, email: `same-${i >> 2}@example.com` },
        }).then(() => ({ t, page: undefined }));
    }),
  );
  for (const { t, page } of mixed) {
    if (!page) continue;
    equal(page.items!.length, 12, `${t.tag} sees exactly its own 12 companies`);
    for (const item of page.items!) equal((item as { industry: string }).industry, t.tag);
  }
  for (const t of tenants) {
    const contacts = await t.crm.readOk({ entity: "contact", limit: 100 });
    equal(
      contacts.items!.length,
      6,
      `${t.tag}: its own contacts; emails may repeat across tenants`,
    );
    const owned = await stack.psql(
      `select count(*) from public.crm_companies where tenant_id = '${t.id}' and industry = '${t.tag}'`,
    );
    equal(Number(owned), 12, `${t.tag}: every row it wrote carries its tenant id`);
  }
  equal(app.metrics.serverBuilds, 1, "both tenants were served by one server");
});

/** One record of every kind for a tenant. */
async function seed(crm: Crm, tag: string) {
  const company = await crm.writeOk({
    action: "create",
    entity: "company",
    fields: { name: `${tag} Co`, domain: `${tag}.example` },
  });
  const contact = await crm.writeOk({
    action: "create",
    entity: "contact",
    fields: { name: `${tag} Person`, email: `x@${tag}.example`, company_id: company.id },
  });
  const deal = await crm.writeOk({
    action: "create",
    entity: "deal",
    fields: { title: `${tag} Deal`, company_id: company.id, contact_id: contact.id },
  });
  const note = await crm.writeOk({
    action: "add_note",
    entity: "deal",
    id: deal.id,
    body: `${tag} note`,
  });
  return { company, contact, deal, note };
}

Deno.test("crm: another tenant's ids lead nowhere, for reads, writes and links", async () => {
  const app = inProcessApp();
  const a = await tenantWithKey(CRM_TOOLS);
  const b = await tenantWithKey(CRM_TOOLS);
  const crmA = crmAs(app, a.key);
  const crmB = crmAs(app, b.key);
  const theirs = await seed(crmA, "victim");
  const snapshot = () =>
    stack.psql(`select string_agg(to_jsonb(r)::text, ',' order by r.id) from (
      select id, name as label, archived_at, updated_at from public.crm_companies where tenant_id = '${a.id}'
      union all select id, name, archived_at, updated_at from public.crm_contacts where tenant_id = '${a.id}'
      union all select id, title, archived_at, updated_at from public.crm_deals where tenant_id = '${a.id}'
      union all select id, body, archived_at, updated_at from public.crm_notes where tenant_id = '${a.id}') r`);
  const before = await snapshot();

  for (const [entity, record] of Object.entries(theirs)) {
    const notFound = new RegExp(`No ${entity} with id ${record.id}\\.`);
    match(toolErrorOf(await crmB.read({ entity, id: record.id })), notFound);
    match(toolErrorOf(await crmB.write({ action: "archive", entity, id: record.id })), notFound);
    match(toolErrorOf(await crmB.write({ action: "restore", entity, id: record.id })), notFound);
    if (entity !== "note") {
      const fields = entity === "deal" ? { title: "pwned" } : { name: "pwned" };
      match(
        toolErrorOf(await crmB.write({ action: "update", entity, id: record.id, fields })),
        notFound,
      );
      match(
        toolErrorOf(
          await crmB.write({ action: "add_note", entity, id: record.id, body: "pwned" }),
        ),
        notFound,
      );
    }
  }

  // Linking own records to theirs.
  const own = await crmB.writeOk({ action: "create", entity: "contact", fields: { name: "Mine" } });
  const links: [Record<string, unknown>, string][] = [
    [{
      action: "create",
      entity: "contact",
      fields: { name: "x", company_id: theirs.company.id },
    }, "company"],
    [{
      action: "create",
      entity: "deal",
      fields: { title: "x", contact_id: theirs.contact.id },
    }, "contact"],
    [{
      action: "update",
      entity: "contact",
      id: own.id,
      fields: { company_id: theirs.company.id },
    }, "company"],
  ];
  for (const [operation, entity] of links) {
    match(
      toolErrorOf(await crmB.write(operation)),
      new RegExp(`No ${entity} with id .* in this tenant`),
    );
  }

  // Searching with their ids as filters finds nothing; their values do not clash with ours.
  for (
    const [entity, filters] of [
      ["contact", { company_id: theirs.company.id }],
      ["deal", { contact_id: theirs.contact.id }],
      ["note", { deal_id: theirs.deal.id }],
    ] as const
  ) {
    deepStrictEqual((await crmB.readOk({ entity, filters })).items, []);
  }
  deepStrictEqual((await crmB.readOk({ entity: "company", query: "victim" })).items, []);
  await seed(crmB, "victim");

  // A tenant id in the arguments is not a thing: refused by the schema.
  match(
    invalidParamsOf(
      await crmB.read({ entity: "company", tenant_id: a.id } as Record<string, unknown>),
    ),
    /Unrecognized key: "tenant_id"/,
  );

  equal(await snapshot(), before, "the other tenant's records are exactly as they were");
  equal((await crmA.readOk({ entity: "company" })).items!.length, 1);
});
