/**
 * crm_read and crm_write through the real app (in this process, and once through the gateway
 * and the function process) against the real database: every action, search, filters,
 * pagination, archive semantics and the answers an agent gets when something is wrong.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { supabaseRpc } from "../../supabase/functions/mcp-tools-server/data/rpc.ts";
import { supabaseClient } from "../../supabase/functions/mcp-tools-server/data/supabase_client.ts";
import { choosePorts } from "../../scripts/lib/ports.ts";
import { CRM_TOOLS, crmAs, invalidParamsOf, resultOf, toolErrorOf } from "../support/crm.ts";
import { inProcessApp, tenantWithKey } from "../support/fixtures.ts";
import { callTool, listTools, post, toolNames } from "../support/mcp_client.ts";
import { stack } from "../support/stack.ts";
import { ReadOutput } from "../../supabase/functions/mcp-tools-server/tools/crm/schemas.ts";

const app = inProcessApp();
const MISSING = "6a1e7c0e-5b1f-4c4e-9a57-0d1f9a3b2c11";

async function crmTenant() {
  const t = await tenantWithKey(CRM_TOOLS);
  return { ...t, crm: crmAs(app, t.key) };
}

async function rowCount(tenantId: string): Promise<number> {
  return Number(
    await stack.psql(
      `select (select count(*) from public.crm_companies where tenant_id = '${tenantId}')
      + (select count(*) from public.crm_contacts where tenant_id = '${tenantId}')
      + (select count(*) from public.crm_deals where tenant_id = '${tenantId}')
      + (select count(*) from public.crm_notes where tenant_id = '${tenantId}')`,
    ),
  );
}

Deno.test("crm: tools/list publishes schemas and annotations, all with object roots", async () => {
  const t = await crmTenant();
  const reply = await post(app, listTools(), { key: t.key });
  // deno-lint-ignore no-explicit-any
  const tools = Object.fromEntries(reply.body.result.tools.map((tool: any) => [tool.name, tool]));
  deepStrictEqual(Object.keys(tools).sort(), CRM_TOOLS);

  const read = tools.crm_read;
  deepStrictEqual(read.annotations, {
    readOnlyHint: true,
    idempotentHint: true,
    openWorldHint: false,
  });
  deepStrictEqual(read.inputSchema.required, ["entity"], "limit has a default: not required");
  deepStrictEqual(read.inputSchema.properties.entity.enum, ["company", "contact", "deal", "note"]);
  equal(read.inputSchema.properties.limit.maximum, 100);
  deepStrictEqual(read.inputSchema.properties.filters.properties.stages.items.enum, [
    "lead",
    "qualified",
    "proposal",
    "negotiation",
    "won",
    "lost",
  ]);
  equal(read.outputSchema.type, "object");
  ok(read.outputSchema.$defs.CrmDeal, "record shapes are published once, as $defs");

  const write = tools.crm_write;
  deepStrictEqual(write.annotations, {
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: false,
    openWorldHint: false,
  });
  deepStrictEqual(write.inputSchema.required, ["operation"]);
  const variants = write.inputSchema.properties.operation.oneOf.flatMap(
    // deno-lint-ignore no-explicit-any
    (v: any) => v.oneOf ?? [v],
  );
  deepStrictEqual(
    // deno-lint-ignore no-explicit-any
    variants.map((v: any) =>
      `${v.properties.action.const}:${v.properties.entity.const ?? v.properties.entity.enum}`
    ),
    [
      "create:company",
      "create:contact",
      "create:deal",
      "update:company",
      "update:contact",
      "update:deal",
      "archive:company,contact,deal,note",
      "restore:company,contact,deal,note",
      "add_note:company,contact,deal",
    ],
  );
  const createContact = variants[1].properties.fields;
  deepStrictEqual(createContact.required, ["name"]);
  equal(createContact.additionalProperties, false);
  equal(variants[4].properties.fields.minProperties, 1, "an update names at least one field");

  // Some clients refuse tools whose schemas are not plain objects at the root.
  for (const tool of [read, write]) {
    for (const schema of [tool.inputSchema, tool.outputSchema]) {
      equal(schema.type, "object");
      for (const k of ["anyOf", "oneOf", "allOf"]) equal(k in schema, false, `${tool.name} ${k}`);
    }
  }
});

Deno.test("crm: a tool not enabled for the caller is neither listed nor callable", async () => {
  const readOnly = await tenantWithKey(["crm_read"]);
  const none = await tenantWithKey(["echo"]);
  deepStrictEqual(toolNames(await post(app, listTools(), { key: readOnly.key })), ["crm_read"]);
  deepStrictEqual(toolNames(await post(app, listTools(), { key: none.key })), ["echo"]);

  const create = { action: "create", entity: "company", fields: { name: "Sneaky Ltd" } };
  for (const t of [readOnly, none]) {
    const reply = await post(app, callTool("crm_write", { operation: create }), { key: t.key });
    equal(reply.body.error?.code, -32602, reply.text); // unknown tool: invalid params
    equal(await rowCount(t.id), 0);
  }
  const read = await post(app, callTool("crm_read", { entity: "company" }), { key: none.key });
  equal(read.body.error?.code, -32602, read.text);
  // And the one it has works.
  const page = resultOf(
    await post(app, callTool("crm_read", { entity: "company" }), { key: readOnly.key }),
    ReadOutput,
  );
  deepStrictEqual(page.items, []);
});

Deno.test("crm: create, get and update companies, contacts and deals", async () => {
  const { crm } = await crmTenant();
  const company = await crm.writeOk({
    action: "create",
    entity: "company",
    fields: { name: "  Initech ", domain: "INITECH.example", industry: "Software" },
  });
  equal(company.name, "Initech", "text is trimmed");
  equal(company.domain, "initech.example", "domains are stored in lowercase");
  equal(company.employee_count, null);
  equal(company.archived_at, null);

  const contact = await crm.writeOk({
    action: "create",
    entity: "contact",
    fields: { name: "Peter Gibbons", email: "Peter@Initech.example", company_id: company.id },
  });
  equal(contact.company_id, company.id);
  equal(contact.email, "Peter@Initech.example");

  const deal = await crm.writeOk({
    action: "create",
    entity: "deal",
    fields: {
      title: "TPS report automation",
      amount: 12500.5,
      currency: "eur",
      close_date: "2027-01-31",
      company_id: company.id,
      contact_id: contact.id,
    },
  });
  equal(deal.stage, "lead", "new deals start as leads");
  equal(deal.amount, 12500.5);
  equal(deal.currency, "EUR");
  equal(deal.close_date, "2027-01-31");

  const got = await crm.readOk({ entity: "deal", id: deal.id });
  deepStrictEqual(got.record, deal);
  deepStrictEqual(got.recent_notes, []);
  equal(got.items, undefined);

  await new Promise((resolve) => setTimeout(resolve, 5));
  const updated = await crm.writeOk({
    action: "update",
    entity: "deal",
    id: deal.id,
    fields: { stage: "won", amount: null, contact_id: null },
  });
  equal(updated.stage, "won");
  equal(updated.amount, null, "null clears an optional field");
  equal(updated.contact_id, null);
  equal(updated.title, deal.title, "fields not given are kept");
  equal(updated.company_id, company.id);
  equal(updated.created_at, deal.created_at);
  ok(Date.parse(updated.updated_at as string) > Date.parse(deal.updated_at as string));

  const renamed = await crm.writeOk({
    action: "update",
    entity: "contact",
    id: contact.id,
    fields: { title: "Programmer", phone: "+1 (555) 010-0199", company_id: null },
  });
  equal(renamed.title, "Programmer");
  equal(renamed.phone, "+1 (555) 010-0199");
  equal(renamed.company_id, null);
  equal(renamed.name, "Peter Gibbons");

  const company2 = await crm.writeOk({
    action: "update",
    entity: "company",
    id: company.id,
    fields: { employee_count: 250, industry: null },
  });
  equal(company2.employee_count, 250);
  equal(company2.industry, null);
});

Deno.test("crm: notes attach to one record and show up newest first", async () => {
  const { crm } = await crmTenant();
  const company = await crm.writeOk({
    action: "create",
    entity: "company",
    fields: { name: "Hooli" },
  });
  const contact = await crm.writeOk({
    action: "create",
    entity: "contact",
    fields: { name: "Gavin Belson", company_id: company.id },
  });
  const notes = [];
  for (let i = 1; i <= 7; i++) {
    notes.push(
      await crm.writeOk({
        action: "add_note",
        entity: "contact",
        id: contact.id,
        body: `Call ${i}: discussed the box`,
      }),
    );
  }
  const companyNote = await crm.writeOk({
    action: "add_note",
    entity: "company",
    id: company.id,
    body: "Signed the NDA",
  });
  equal(notes[0].contact_id, contact.id);
  equal(notes[0].company_id, null);
  equal(notes[0].deal_id, null);
  equal(companyNote.company_id, company.id);

  const got = await crm.readOk({ entity: "contact", id: contact.id });
  deepStrictEqual(
    got.recent_notes!.map((n) => n.body),
    ["Call 7", "Call 6", "Call 5", "Call 4", "Call 3"].map((s) => `${s}: discussed the box`),
  );
  const onCompany = await crm.readOk({ entity: "company", id: company.id });
  deepStrictEqual(onCompany.recent_notes!.map((n) => n.id), [companyNote.id]);

  const note = await crm.readOk({ entity: "note", id: notes[0].id });
  deepStrictEqual(note.record, notes[0]);
  equal(note.recent_notes, undefined, "notes have no notes");

  const byContact = await crm.readOk({
    entity: "note",
    filters: { contact_id: contact.id },
    limit: 100,
  });
  equal(byContact.items!.length, 7);
  const found = await crm.readOk({ entity: "note", query: "NDA" });
  deepStrictEqual(found.items!.map((n) => n.id), [companyNote.id]);
});

Deno.test("crm: search matches text case-insensitively and takes % and _ literally", async () => {
  const { crm } = await crmTenant();
  const create = (fields: Record<string, unknown>) =>
    crm.writeOk({ action: "create", entity: "contact", fields });
  const ada = await create({ name: "Ada Lovelace", email: "ada@engine.example", title: "Analyst" });
  const grace = await create({ name: "Grace Hopper", phone: "+1 555 0142", title: "Rear Admiral" });
  const pct = await create({ name: "100% Real_Name" });
  await create({ name: "1000 Realname" });

  const ids = async (query: string) =>
    (await crm.readOk({ entity: "contact", query })).items!.map((r) => r.id);
  deepStrictEqual(await ids("LOVELACE"), [ada.id]);
  deepStrictEqual(await ids("ENGINE.example"), [ada.id], "emails are searched");
  deepStrictEqual(await ids("555 0142"), [grace.id], "phones are searched");
  deepStrictEqual(await ids("admiral"), [grace.id], "titles are searched");
  deepStrictEqual(await ids("0% real_"), [pct.id], "% and _ match only themselves");
  deepStrictEqual(await ids("nobody here"), []);

  const deal = await crm.writeOk({
    action: "create",
    entity: "deal",
    fields: { title: "Difference Engine No. 2" },
  });
  deepStrictEqual((await crm.readOk({ entity: "deal", query: "engine" })).items!.map((r) => r.id), [
    deal.id,
  ]);
});

Deno.test("crm: filters narrow a search, and a filter for another entity is refused", async () => {
  const { crm } = await crmTenant();
  const acme = await crm.writeOk({
    action: "create",
    entity: "company",
    fields: { name: "Acme", industry: "Manufacturing" },
  });
  const globex = await crm.writeOk({
    action: "create",
    entity: "company",
    fields: { name: "Globex", industry: "Energy" },
  });
  const wile = await crm.writeOk({
    action: "create",
    entity: "contact",
    fields: { name: "Wile E. Coyote", company_id: acme.id },
  });
  await crm.writeOk({ action: "create", entity: "contact", fields: { name: "Hank Scorpio" } });
  const deal = (title: string, stage: string, company: string, contact?: string) =>
    crm.writeOk({
      action: "create",
      entity: "deal",
      fields: { title, stage, company_id: company, ...(contact ? { contact_id: contact } : {}) },
    });
  const rockets = await deal("Rockets", "proposal", acme.id, wile.id);
  const anvils = await deal("Anvils", "won", acme.id);
  const plant = await deal("Power plant", "lead", globex.id);

  const ids = async (args: Record<string, unknown>) =>
    (await crm.readOk(args)).items!.map((r) => r.id);
  deepStrictEqual(await ids({ entity: "company", filters: { industry: "energy" } }), [globex.id]);
  deepStrictEqual(await ids({ entity: "contact", filters: { company_id: acme.id } }), [wile.id]);
  deepStrictEqual(await ids({ entity: "deal", filters: { company_id: acme.id } }), [
    anvils.id,
    rockets.id,
  ]);
  deepStrictEqual(await ids({ entity: "deal", filters: { contact_id: wile.id } }), [rockets.id]);
  deepStrictEqual(
    await ids({ entity: "deal", filters: { stages: ["lead", "proposal"] } }),
    [plant.id, rockets.id],
  );
  deepStrictEqual(
    await ids({ entity: "deal", query: "rock", filters: { stages: ["won"] } }),
    [],
    "query and filters combine",
  );

  const refused = toolErrorOf(await crm.read({ entity: "contact", filters: { stages: ["won"] } }));
  match(refused, /filter "stages" does not apply to contact/);
  match(refused, /include_archived, company_id/);
  match(
    toolErrorOf(await crm.read({ entity: "company", filters: { company_id: acme.id } })),
    /filter "company_id" does not apply to company/,
  );
});

Deno.test("crm: pages follow next_cursor through every record once, newest first", async () => {
  const { crm } = await crmTenant();
  const created = [];
  for (let i = 0; i < 7; i++) {
    created.push(
      await crm.writeOk({ action: "create", entity: "contact", fields: { name: `Page ${i}` } }),
    );
  }
  await crm.writeOk({ action: "create", entity: "contact", fields: { name: "Other" } });

  const seen: string[] = [];
  const sizes: number[] = [];
  let cursor: string | undefined;
  do {
    const page = await crm.readOk({ entity: "contact", query: "page", limit: 3, cursor });
    sizes.push(page.items!.length);
    seen.push(...page.items!.map((r) => r.id));
    cursor = page.next_cursor ?? undefined;
    if (page.items!.length < 3) equal(page.next_cursor, null);
  } while (cursor);
  deepStrictEqual(sizes, [3, 3, 1]);
  deepStrictEqual(seen, created.map((r) => r.id).reverse());

  // Exactly a full last page: the cursor is null rather than pointing at an empty page.
  const six = await crm.readOk({ entity: "contact", query: "page", limit: 7 });
  equal(six.items!.length, 7);
  equal(six.next_cursor, null);

  const first = await crm.readOk({ entity: "contact", query: "page", limit: 3 });
  match(
    toolErrorOf(
      await crm.read({ entity: "contact", query: "other", limit: 3, cursor: first.next_cursor }),
    ),
    /cursor belongs to a search with a different entity, query or filters/,
  );
  match(
    toolErrorOf(await crm.read({ entity: "contact", cursor: "not-a-cursor" })),
    /not one crm_read returned/,
  );
  match(
    toolErrorOf(await crm.read({ entity: "contact", cursor: btoa('{"c":"x","i":"y"}') })),
    /not one crm_read returned/,
  );
});

Deno.test("crm: archived records are hidden, frozen and unlinkable until restored", async () => {
  const { crm } = await crmTenant();
  const company = await crm.writeOk({
    action: "create",
    entity: "company",
    fields: { name: "Vandelay Industries" },
  });
  const archived = await crm.writeOk({ action: "archive", entity: "company", id: company.id });
  ok(archived.archived_at);

  const search = (filters = {}) => crm.readOk({ entity: "company", query: "vandelay", filters });
  deepStrictEqual((await search()).items, []);
  deepStrictEqual((await search({ include_archived: true })).items!.map((r) => r.id), [
    company.id,
  ]);
  equal((await crm.readOk({ entity: "company", id: company.id })).record!.id, company.id);

  match(
    toolErrorOf(
      await crm.write({
        action: "update",
        entity: "company",
        id: company.id,
        fields: { name: "x" },
      }),
    ),
    new RegExp(`company ${company.id} is archived. Restore it before changing it`),
  );
  match(
    toolErrorOf(
      await crm.write({
        action: "create",
        entity: "contact",
        fields: { name: "Art Vandelay", company_id: company.id },
      }),
    ),
    new RegExp(`company ${company.id} is archived, so nothing new can be linked to it`),
  );
  // A note may still record why it was archived.
  await crm.writeOk({
    action: "add_note",
    entity: "company",
    id: company.id,
    body: "Archived: importer/exporter went out of business",
  });

  const again = await crm.writeOk({ action: "archive", entity: "company", id: company.id });
  equal(again.archived_at, archived.archived_at, "archiving twice keeps the first time");

  const restored = await crm.writeOk({ action: "restore", entity: "company", id: company.id });
  equal(restored.archived_at, null);
  deepStrictEqual((await search()).items!.map((r) => r.id), [company.id]);
  await crm.writeOk({
    action: "create",
    entity: "contact",
    fields: { name: "Art Vandelay", company_id: company.id },
  });

  // Notes can be archived too, and leave the record's recent notes.
  const note = await crm.writeOk({
    action: "add_note",
    entity: "company",
    id: company.id,
    body: "Back in business",
  });
  await crm.writeOk({ action: "archive", entity: "note", id: note.id });
  const got = await crm.readOk({ entity: "company", id: company.id });
  equal(got.recent_notes!.some((n) => n.id === note.id), false);
});

Deno.test("crm: not found names the entity and the id, for every action", async () => {
  const { crm } = await crmTenant();
  const expect = (text: string, entity: string) =>
    match(text, new RegExp(`No ${entity} with id ${MISSING}. Search with crm_read`));
  expect(toolErrorOf(await crm.read({ entity: "deal", id: MISSING })), "deal");
  expect(
    toolErrorOf(
      await crm.write({ action: "update", entity: "contact", id: MISSING, fields: { name: "x" } }),
    ),
    "contact",
  );
  expect(toolErrorOf(await crm.write({ action: "archive", entity: "note", id: MISSING })), "note");
  expect(
    toolErrorOf(await crm.write({ action: "restore", entity: "company", id: MISSING })),
    "company",
  );
  expect(
    toolErrorOf(await crm.write({ action: "add_note", entity: "deal", id: MISSING, body: "hi" })),
    "deal",
  );
});

Deno.test("crm: a link to a record that is not there, or of another kind, is refused by field", async () => {
  const { id, crm } = await crmTenant();
  const company = await crm.writeOk({ action: "create", entity: "company", fields: { name: "C" } });
  match(
    toolErrorOf(
      await crm.write({
        action: "create",
        entity: "contact",
        fields: { name: "Nobody", company_id: MISSING },
      }),
    ),
    new RegExp(`No company with id ${MISSING} in this tenant \\(company_id\\)`),
  );
  // A company's id is no contact's id.
  match(
    toolErrorOf(
      await crm.write({
        action: "create",
        entity: "deal",
        fields: { title: "Mixed up", company_id: company.id, contact_id: company.id },
      }),
    ),
    new RegExp(`No contact with id ${company.id} in this tenant \\(contact_id\\)`),
  );
  const contact = await crm.writeOk({ action: "create", entity: "contact", fields: { name: "P" } });
  match(
    toolErrorOf(
      await crm.write({
        action: "update",
        entity: "contact",
        id: contact.id,
        fields: { company_id: contact.id },
      }),
    ),
    /No company with id .* \(company_id\)/,
  );
  equal(await rowCount(id), 2, "nothing was written by the refused calls");
});

Deno.test("crm: duplicates are refused with the id of the record that has the value", async () => {
  const { crm } = await crmTenant();
  const first = await crm.writeOk({
    action: "create",
    entity: "contact",
    fields: { name: "Ann", email: "ann@example.com" },
  });
  const dup = toolErrorOf(
    await crm.write({
      action: "create",
      entity: "contact",
      fields: { name: "Ann again", email: "ANN@example.com" },
    }),
  );
  match(dup, new RegExp(`contact with email ANN@example.com already exists \\(id ${first.id}\\)`));

  const second = await crm.writeOk({
    action: "create",
    entity: "contact",
    fields: { name: "Bo", email: "bo@example.com" },
  });
  await crm.writeOk({ action: "archive", entity: "contact", id: first.id });
  match(
    toolErrorOf(
      await crm.write({
        action: "update",
        entity: "contact",
        id: second.id,
        fields: { email: "ann@example.com" },
      }),
    ),
    new RegExp(`\\(id ${first.id}, archived: restore it first\\)`),
    "archived records keep their email, and the answer says so",
  );

  const co = await crm.writeOk({
    action: "create",
    entity: "company",
    fields: { name: "Umbrella", domain: "umbrella.example" },
  });
  match(
    toolErrorOf(
      await crm.write({
        action: "create",
        entity: "company",
        fields: { name: "Umbrella 2", domain: "Umbrella.example" },
      }),
    ),
    new RegExp(`company with domain umbrella.example already exists \\(id ${co.id}\\)`),
  );
});

Deno.test("crm: malformed arguments are refused before any query, naming the field", async () => {
  const { id, crm } = await crmTenant();
  const refusals: [Record<string, unknown>, RegExp][] = [
    [
      { action: "create", entity: "contact", fields: { name: "X", email: "not-an-email" } },
      /operation\.fields\.email: Invalid email/,
    ],
    [{ action: "create", entity: "contact", fields: { name: "  " } }, /operation\.fields\.name/],
    [
      { action: "create", entity: "company", fields: { name: "X", domain: "https://x.io/" } },
      /operation\.fields\.domain: must be a host name/,
    ],
    [
      { action: "create", entity: "deal", fields: { title: "X", amount: -1 } },
      /operation\.fields\.amount/,
    ],
    [
      { action: "create", entity: "deal", fields: { title: "X", stage: "maybe" } },
      /operation\.fields\.stage/,
    ],
    [
      { action: "create", entity: "deal", fields: { title: "X", currency: "euro" } },
      /operation\.fields\.currency: must be a 3-letter ISO code/,
    ],
    [{ action: "create", entity: "note", fields: { body: "x" } }, /operation\.entity/],
    [
      { action: "update", entity: "deal", id: MISSING, fields: {} },
      /operation\.fields: name at least one field to change/,
    ],
    [{ action: "update", entity: "note", id: MISSING, fields: { body: "x" } }, /operation\.entity/],
    [{ action: "archive", entity: "deal", id: "42" }, /operation\.id: must be a record id/],
    [{ action: "delete", entity: "deal", id: MISSING }, /operation\.action/],
    [{ action: "add_note", entity: "note", id: MISSING, body: "x" }, /operation\.entity/],
    [
      { action: "create", entity: "company", fields: { name: "X" }, tenant_id: MISSING },
      /operation: Unrecognized key: "tenant_id"/,
    ],
  ];
  for (const [operation, expected] of refusals) {
    match(invalidParamsOf(await crm.write(operation)), expected, JSON.stringify(operation));
  }
  match(invalidParamsOf(await crm.read({ entity: "deal", limit: 500 })), /limit/);
  match(invalidParamsOf(await crm.read({ entity: "deals" })), /entity/);
  match(
    toolErrorOf(await crm.read({ entity: "deal", id: MISSING, query: "x" })),
    /either id .* or query, filters and cursor/,
  );
  equal(await rowCount(id), 0);
});

Deno.test("crm: works through the gateway and the deployed function process", async () => {
  const t = await tenantWithKey(CRM_TOOLS);
  for (const accept of ["json", "sse"] as const) {
    const crm = crmAs(stack.info.mcpUrl, t.key, accept);
    const company = await crm.writeOk({
      action: "create",
      entity: "company",
      fields: { name: `Gateway ${accept}` },
    });
    const note = await crm.writeOk({
      action: "add_note",
      entity: "company",
      id: company.id,
      body: "via the gateway",
    });
    const got = await crm.readOk({ entity: "company", id: company.id });
    deepStrictEqual(got.record, company);
    deepStrictEqual(got.recent_notes, [note]);
  }
  const found = await crmAs(stack.info.mcpUrl, t.key).readOk({
    entity: "company",
    query: "gateway",
  });
  deepStrictEqual(found.items!.map((r) => (r as { name: string }).name), [
    "Gateway sse",
    "Gateway json",
  ]);
});

Deno.test("crm: an unreachable or hung database is an isError result to retry", async () => {
  const t = await tenantWithKey(CRM_TOOLS);
  const release = Promise.withResolvers<void>();
  const hung = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    async () => (await release.promise, new Response("late")),
  );
  const closed = choosePorts({ db: undefined }).db;
  try {
    for (const port of [closed, hung.addr.port]) {
      // The key store works; only the tools' database is unreachable.
      const url = `http://127.0.0.1:${port}`;
      const broken = inProcessApp({
        services: { db: supabaseRpc(supabaseClient({ url, key: stack.info.serviceRoleKey }, 300)) },
      });
      const crm = crmAs(broken, t.key);
      const replies = [
        await crm.read({ entity: "deal" }),
        await crm.write({ action: "archive", entity: "deal", id: MISSING }),
      ];
      for (const reply of replies) {
        match(toolErrorOf(reply), /did not answer in time. Nothing was changed; try again/);
      }
    }
  } finally {
    release.resolve();
    await hung.shutdown();
  }
});
