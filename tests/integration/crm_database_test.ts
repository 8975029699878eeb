/**
 * The CRM tables in the database itself: out of reach of browser roles, links that cannot cross
 * tenants whoever writes the row, admin-readable constraints and comments, and cascades.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { createTenant, lit, tenantWithKey } from "../support/fixtures.ts";
import { rest, stack } from "../support/stack.ts";

const TABLES = ["crm_companies", "crm_contacts", "crm_deals", "crm_notes"];
const FUNCTIONS: Record<string, Record<string, unknown>> = {
  crm_get: { p_tenant_id: null, p_entity: "company", p_id: null },
  crm_search: { p_tenant_id: null, p_entity: "company" },
  crm_create: { p_tenant_id: null, p_entity: "company", p_fields: { name: "x" } },
  crm_update: { p_tenant_id: null, p_entity: "company", p_id: null, p_fields: {} },
  crm_set_archived: { p_tenant_id: null, p_entity: "company", p_id: null, p_archived: true },
  crm_add_note: { p_tenant_id: null, p_entity: "company", p_id: null, p_body: "x" },
};

/** A valid row of each table (with tenant_id and company_id added), as a browser might send. */
const ROWS: Record<string, Record<string, unknown>> = {
  crm_companies: { name: "x" },
  crm_contacts: { name: "x" },
  crm_deals: { title: "x" },
  crm_notes: { body: "x" },
};

const attempt = (sql: string) =>
  stack.psql(sql).then(() => "accepted", (err: Error) => err.message);

/** Inserts a row as the superuser (as an admin in the dashboard would) and returns its id. */
async function insert(table: string, values: Record<string, string>): Promise<string> {
  const columns = Object.keys(values).join(", ");
  const row = Object.values(values).map(lit).join(", ");
  return (await stack.psql(`insert into public.${table} (${columns}) values (${row}) returning id`))
    .trim();
}

for (const role of ["anon", "authenticated"] as const) {
  const key = () => role === "anon" ? stack.info.anonKey : stack.info.authenticatedKey;

  Deno.test(`${role}: cannot read or write CRM tables or call the CRM functions`, async () => {
    const t = await createTenant([]);
    const company = await insert("crm_companies", { tenant_id: t.id, name: "Secret Co" });
    for (const table of TABLES) {
      const read = await rest(`${table}?select=*`, key());
      ok(read.status === 401 || read.status === 403, `${table} read: ${read.status}`);
      await read.body?.cancel();
      const write = await rest(table, key(), {
        method: "POST",
        body: JSON.stringify({
          tenant_id: t.id,
          ...ROWS[table],
          ...(table === "crm_companies" ? {} : { company_id: company }),
        }),
      });
      ok(write.status === 401 || write.status === 403, `${table} write: ${write.status}`);
      await write.body?.cancel();
    }
    for (const [fn, args] of Object.entries(FUNCTIONS)) {
      const res = await rest(`rpc/${fn}`, key(), {
        method: "POST",
        body: JSON.stringify({ ...args, p_tenant_id: t.id, p_id: company }),
      });
      ok([401, 403, 404].includes(res.status), `${fn}: ${res.status}`);
      await res.body?.cancel();
    }
    equal(
      await stack.psql(`select name from public.crm_companies where id = '${company}'`),
      "Secret Co",
    );
  });
}

Deno.test("service_role reaches the CRM functions, and only those with p_tenant_id first", async () => {
  const t = await createTenant([]);
  const res = await rest("rpc/crm_create", stack.info.serviceRoleKey, {
    method: "POST",
    body: JSON.stringify({
      p_tenant_id: t.id,
      p_entity: "company",
      p_fields: { name: "Via REST" },
    }),
  });
  equal(res.status, 200);
  const record = await res.json();
  equal(record.name, "Via REST");
  equal("tenant_id" in record, false, "records never carry the tenant id");
  equal("search_text" in record, false);

  // Every crm_* function a client could reach is tenant-scoped by its first parameter.
  const signatures = await stack.psql(`select p.proname || ':' || coalesce(p.proargnames[1], '')
    from pg_proc p where p.pronamespace = 'public'::regnamespace and p.proname like 'crm\\_%'
      and has_function_privilege('service_role', p.oid, 'execute')
      and p.proname not in ('crm_table')
    order by 1`);
  for (const line of signatures.split("\n")) match(line, /:p_tenant_id$/, line);
});

Deno.test("a link to another tenant's record fails at the foreign key, even without the trigger", async () => {
  const a = await createTenant([]);
  const b = await createTenant([]);
  const theirs = await insert("crm_companies", { tenant_id: a.id, name: "Theirs" });
  // The trigger answers first, with a sentence.
  match(
    await attempt(
      `insert into public.crm_contacts (tenant_id, name, company_id)
       values ('${b.id}', 'x', '${theirs}')`,
    ),
    new RegExp(`No company with id ${theirs} in this tenant`),
  );
  // With it out of the way, the composite foreign key still refuses the row.
  match(
    await attempt(`begin;
      alter table public.crm_contacts disable trigger crm_contacts_check_links;
      insert into public.crm_contacts (tenant_id, name, company_id)
        values ('${b.id}', 'x', '${theirs}');
      commit;`),
    /violates foreign key constraint "crm_contacts_company_fk"/,
  );
  match(
    await attempt(`begin;
      alter table public.crm_notes disable trigger crm_notes_check_links;
      insert into public.crm_notes (tenant_id, body, company_id) values ('${b.id}', 'x', '${theirs}');
      commit;`),
    /violates foreign key constraint "crm_notes_company_fk"/,
  );
  // Moving a linked record to another tenant is refused too.
  const contact = await insert("crm_contacts", {
    tenant_id: a.id,
    name: "Linked",
    company_id: theirs,
  });
  match(
    await attempt(`update public.crm_companies set tenant_id = '${b.id}' where id = '${theirs}'`),
    /crm_contacts_company_fk/,
  );
  equal(
    await stack.psql(`select tenant_id from public.crm_contacts where id = '${contact}'`),
    a.id,
  );
  equal(
    await stack.psql(`select tgenabled from pg_trigger where tgname = 'crm_contacts_check_links'`),
    "O",
    "the trigger is back on (the transaction rolled back)",
  );
});

Deno.test("the database refuses malformed CRM rows with named constraints", async () => {
  const t = await createTenant([]);
  const company = await insert("crm_companies", { tenant_id: t.id, name: "Named" });
  const cases: [string, RegExp][] = [
    [
      `insert into public.crm_companies (tenant_id, name, domain) values ('${t.id}', 'x', 'Has Caps.com')`,
      /crm_companies_domain_format/,
    ],
    [
      `insert into public.crm_companies (tenant_id, name) values ('${t.id}', '   ')`,
      /crm_companies_name_length/,
    ],
    [
      `insert into public.crm_contacts (tenant_id, name, email) values ('${t.id}', 'x', 'nope')`,
      /crm_contacts_email_format/,
    ],
    [
      `insert into public.crm_deals (tenant_id, title, currency) values ('${t.id}', 'x', 'usd')`,
      /crm_deals_currency_format/,
    ],
    [
      `insert into public.crm_deals (tenant_id, title, amount) values ('${t.id}', 'x', -5)`,
      /crm_deals_amount_not_negative/,
    ],
    [
      `insert into public.crm_deals (tenant_id, title, stage) values ('${t.id}', 'x', 'maybe')`,
      /invalid input value for enum crm_deal_stage/,
    ],
    [
      `insert into public.crm_notes (tenant_id, body) values ('${t.id}', 'about nothing')`,
      /crm_notes_attached_to_one_record/,
    ],
    [
      `insert into public.crm_notes (tenant_id, body, company_id) values ('${t.id}', '', '${company}')`,
      /crm_notes_body_length/,
    ],
  ];
  for (const [sql, expected] of cases) match(await attempt(sql), expected, sql);
});

Deno.test("every CRM column has a comment for the dashboard", async () => {
  const list = TABLES.map((t) => `'public.${t}'::regclass`).join(", ");
  const missing = await stack.psql(`select string_agg(c.relname || '.' || a.attname, ', ')
    from pg_attribute a join pg_class c on c.oid = a.attrelid
    where c.oid in (${list}) and a.attnum > 0 and not a.attisdropped
      and col_description(c.oid, a.attnum) is null`);
  equal(missing, "", `columns without a comment: ${missing}`);
  const tables = await stack.psql(`select count(*) from pg_class
    where oid in (${list}) and obj_description(oid, 'pg_class') is not null`);
  equal(Number(tables), TABLES.length);
});

Deno.test("updated_at follows changes; deletes cascade from tenants and records", async () => {
  const t = await tenantWithKey([]);
  const company = await insert("crm_companies", { tenant_id: t.id, name: "Doomed" });
  const contact = await insert("crm_contacts", {
    tenant_id: t.id,
    name: "Stays",
    company_id: company,
  });
  await insert("crm_notes", { tenant_id: t.id, body: "on the company", company_id: company });
  await insert("crm_notes", { tenant_id: t.id, body: "on the contact", contact_id: contact });

  const stamps = await stack.psql(`update public.crm_contacts set title = 'CEO'
    where id = '${contact}' returning updated_at > created_at`);
  equal(stamps, "t");

  // Deleting a company (an admin's hard delete) unlinks its contacts and drops its notes.
  await stack.psql(`delete from public.crm_companies where id = '${company}'`);
  equal(
    await stack.psql(`select company_id is null from public.crm_contacts where id = '${contact}'`),
    "t",
  );
  deepStrictEqual(
    (await stack.psql(`select body from public.crm_notes where tenant_id = '${t.id}'`)).split("\n"),
    ["on the contact"],
  );

  await stack.psql(`delete from public.tenants where id = '${t.id}'`);
  for (const table of TABLES) {
    equal(
      await stack.psql(`select count(*) from public.${table} where tenant_id = '${t.id}'`),
      "0",
    );
  }
});
