/**
 * Rules both the function (zod, in-process) and the database (checks on save, through psql) apply.
 * Where a rule is not generated from the code (scripts/generate.ts), a table of cases runs through
 * both sides here and each case must get the same verdict from each.
 */
import { deepStrictEqual } from "node:assert/strict";
import type { z } from "zod";
import { FIELD_RULES } from "../../supabase/functions/mcp-tools-server/tools/crm/schemas.ts";
import {
  type DefinitionError,
  parseHttpDefinition,
} from "../../supabase/functions/mcp-tools-server/tools/http/definition.ts";
import { TenantUpstreamSchema } from "../../supabase/functions/mcp-tools-server/tools/http/tenant_upstream.ts";
import { createTenant, lit } from "../support/fixtures.ts";
import { stack } from "../support/stack.ts";

/** The function's verdict. */
function accepts(schema: z.ZodType, value: unknown): boolean {
  return schema.safeParse(value).success;
}

/** Only the cases where a side disagrees with the expected verdict, so a failure names them. */
function disagreements(rows: [string, boolean, boolean][], expected: [boolean, boolean][]) {
  return rows.filter(([, fn, db], i) => fn !== expected[i][0] || db !== expected[i][1])
    .map(([what, fn, db]) =>
      `${what}: function ${fn ? "accepts" : "refuses"}, database ${db ? "accepts" : "refuses"}`
    );
}

/** The database's verdict on each tenant config, against the http family's config_schema. */
async function databaseAcceptsConfigs(configs: unknown[]): Promise<boolean[]> {
  return JSON.parse(
    await stack.psql(`select jsonb_agg(cardinality(private.json_schema_problems(
        c, (select config_schema from public.tool_families where family = 'http'), 'config')) = 0
      order by i)
      from jsonb_array_elements(${
      lit(JSON.stringify(configs))
    }::jsonb) with ordinality as x (c, i)`),
  );
}

const long = (n: number) => "x".repeat(n);

/** [value, accepted by both] */
const BASE_URLS: [string, boolean][] = [
  ["https://api.example.com", true],
  ["http://api.example.com/v1", true],
  ["https://api.example.com/v1/", true],
  ["https://api.example.com:8443/v1/orders", true],
  ["https://10.0.0.1/api", true],
  ["ftp://files.example.com", false],
  ["https://user:pw@api.example.com", false],
  ["https://token@api.example.com", false],
  ["https://api.example.com/v1?key=x", false],
  ["https://api.example.com/v1#top", false],
  ["api.example.com", false],
  ["https://", false],
  ["", false],
  ["javascript:alert(1)", false],
];

Deno.test("contracts: the base-URL rule of config.http is the same in the function and the database", async () => {
  const configs = BASE_URLS.map(([url]) => ({ http: { base_url: url } }));
  const database = await databaseAcceptsConfigs(configs);
  deepStrictEqual(
    disagreements(
      BASE_URLS.map((
        [url],
        i,
      ) => [url, accepts(TenantUpstreamSchema, configs[i].http), database[i]]),
      BASE_URLS.map(([, ok]) => [ok, ok]),
    ),
    [],
  );
});

/** Secret and header names in config.http (patterns generated from the code; checked end to end). */
const UPSTREAMS: [string, Record<string, unknown>, boolean][] = [
  ["bearer secret", { auth: { type: "bearer", secret: "api_token" } }, true],
  ["secret with digits", { auth: { type: "bearer", secret: "t0ken_2" } }, true],
  ["secret starting with a digit", { auth: { type: "bearer", secret: "2token" } }, false],
  ["secret in capitals", { auth: { type: "bearer", secret: "API_TOKEN" } }, false],
  ["secret too long", { auth: { type: "bearer", secret: `a${"b".repeat(63)}` } }, false],
  ["secret of 63", { auth: { type: "bearer", secret: `a${"b".repeat(62)}` } }, true],
  ["header auth", { auth: { type: "header", header: "X-Api-Key", secret: "k" } }, true],
  ["header auth, bad name", { auth: { type: "header", header: "X Api Key", secret: "k" } }, false],
  ["header from a secret", { headers: { "X-Signature": { secret: "signing_key" } } }, true],
  ["header with a bad secret", { headers: { "X-Signature": { secret: "Signing" } } }, false],
  ["plain header", { headers: { "X-Client-Id": "c-1" } }, true],
  ["bad header name", { headers: { "X Client": "c-1" } }, false],
  ["header name too long", { headers: { [`X-${long(63)}`]: "c-1" } }, false],
  ["unknown auth type", { auth: { type: "oauth", secret: "k" } }, false],
  ["credential in the config", { auth: { type: "bearer", token: "sk_live_x" } }, false],
];

/**
 * Upstream configs the function refuses although the database stores them: a plaintext credential
 * header (the function's rule looks at a header's value and name together, which the database's
 * JSON Schema subset can't say).
 */
const UPSTREAMS_STRICTER_IN_FUNCTION: [string, Record<string, unknown>][] = [
  ["plaintext Authorization", { headers: { Authorization: "Bearer sk_live_x" } }],
  ["plaintext cookie", { headers: { cookie: "session=1" } }],
];

Deno.test("contracts: secret and header names in config.http get the same verdict on both sides", async () => {
  const cases: [string, Record<string, unknown>, boolean, boolean][] = [
    ...UPSTREAMS.map(([what, http, ok]): [string, Record<string, unknown>, boolean, boolean] => [
      what,
      http,
      ok,
      ok,
    ]),
    ...UPSTREAMS_STRICTER_IN_FUNCTION.map((
      [what, http],
    ): [string, Record<string, unknown>, boolean, boolean] => [what, http, false, true]),
  ];
  const configs = cases.map(([, http]) => ({
    http: { base_url: "https://api.example.com", ...http },
  }));
  const database = await databaseAcceptsConfigs(configs);
  deepStrictEqual(
    disagreements(
      cases.map(([what], i) => [what, accepts(TenantUpstreamSchema, configs[i].http), database[i]]),
      cases.map(([, , fn, db]) => [fn, db]),
    ),
    [],
  );
});

type Entity = keyof typeof FIELD_RULES;
/** [entity, field, value, accepted by both] */
type FieldCase = [Entity, string, unknown, boolean];

const FIELDS: FieldCase[] = [
  ["company", "name", "Acme", true],
  ["company", "name", long(200), true],
  ["company", "name", long(201), false],
  ["company", "name", "   ", false],
  ["company", "name", "", false],
  ["company", "domain", "acme.com", true],
  ["company", "domain", "ACME.com", true], // the function lowercases it first
  ["company", "domain", "eu.acme-corp.co.uk", true],
  ["company", "domain", "acme", false],
  ["company", "domain", "-acme.com", false],
  ["company", "domain", "acme-.com", false],
  ["company", "domain", "https://acme.com", false],
  ["company", "domain", "acme.com/about", false],
  ["company", "domain", `${long(60)}.${long(60)}.${long(60)}.${long(60)}.com`, true],
  ["company", "domain", `${long(60)}.${long(60)}.${long(60)}.${long(60)}.${long(60)}.com`, false],
  ["company", "industry", "Manufacturing", true],
  ["company", "industry", long(101), false],
  ["company", "industry", " ", false],
  ["company", "employee_count", 0, true],
  ["company", "employee_count", 10_000_000, true],
  ["company", "employee_count", 10_000_001, false],
  ["company", "employee_count", -1, false],
  ["company", "employee_count", 2.5, false],
  ["contact", "name", "Ada Lovelace", true],
  ["contact", "name", long(201), false],
  ["contact", "email", "ada@example.com", true],
  ["contact", "email", "ada.lovelace+crm@mail.example.org", true],
  ["contact", "email", "ada@example", false],
  ["contact", "email", "ada@@example.com", false],
  ["contact", "email", "ada example.com", false],
  ["contact", "email", "@example.com", false],
  ["contact", "email", `${long(250)}@example.com`, false],
  ["contact", "phone", "+1 555 0100", true],
  ["contact", "phone", "(030) 1234-5678 x12", true],
  ["contact", "phone", "555", true],
  ["contact", "phone", "+()", false],
  ["contact", "phone", "call me", false],
  ["contact", "phone", "12", false],
  ["contact", "phone", "1".repeat(41), false],
  ["contact", "title", "Head of Purchasing", true],
  ["contact", "title", long(201), false],
  ["deal", "title", "Fleet renewal", true],
  ["deal", "title", "", false],
  ["deal", "stage", "negotiation", true],
  ["deal", "stage", "closed", false],
  ["deal", "amount", 0, true],
  ["deal", "amount", 180_000.5, true],
  ["deal", "amount", 999_999_999_999.99, true],
  ["deal", "amount", 1_000_000_000_000, false],
  ["deal", "amount", -1, false],
  ["deal", "currency", "EUR", true],
  ["deal", "currency", "usd", true], // the function uppercases it first
  ["deal", "currency", "US", false],
  ["deal", "currency", "EURO", false],
  ["deal", "currency", "E1R", false],
  ["deal", "close_date", "2026-12-31", true],
  ["deal", "close_date", "2028-02-29", true],
  ["deal", "close_date", "2026-02-30", false],
  ["deal", "close_date", "2026-13-01", false],
  ["deal", "close_date", "31/12/2026", false],
  ["note", "body", "Prefers email.", true],
  ["note", "body", long(20_000), true],
  ["note", "body", long(20_001), false],
  ["note", "body", "   ", false],
];

/**
 * Values the function refuses although the database would store them: the function's rule is
 * stricter (the database's check is the last word, not the only one). Listed so that a change on
 * either side shows up here.
 */
const STRICTER_IN_FUNCTION: FieldCase[] = [
  ["contact", "email", "ada@exa_mple.com", false],
  ["deal", "close_date", "2026-1-5", false],
  ["deal", "close_date", "tomorrow", false], // Postgres reads special date words
  ["note", "body", " \n ", false], // btrim removes spaces only; zod's trim all white space
];

const TABLES: Record<Entity, string> = {
  company: "crm_companies",
  contact: "crm_contacts",
  deal: "crm_deals",
  note: "crm_notes",
};

/** What a row needs besides the field under test. */
function baseRow(entity: Entity, companyId: string): Record<string, unknown> {
  return {
    company: { name: "Base" },
    contact: { name: "Base" },
    deal: { title: "Base" },
    note: { body: "Base", company_id: companyId },
  }[entity];
}

/** Whether the database stores each row; every insert is rolled back. */
async function databaseAcceptsRows(
  tenantId: string,
  rows: { table: string; row: Record<string, unknown> }[],
): Promise<boolean[]> {
  return JSON.parse(
    await stack.psql(`
      create function pg_temp.stores(p_table text, p_tenant uuid, p_row jsonb) returns boolean
      language plpgsql as $$
      declare
        v_cols text;
        v_vals text;
      begin
        select string_agg(quote_ident(k), ', '),
               string_agg(format('(jsonb_populate_record(null::public.%I, $2)).%I', p_table, k), ', ')
          into v_cols, v_vals
        from jsonb_object_keys(p_row) k;
        execute format('insert into public.%I (tenant_id, %s) values ($1, %s)', p_table, v_cols, v_vals)
          using p_tenant, p_row;
        raise exception 'stored' using errcode = 'P0100';
      exception
        when sqlstate 'P0100' then return true;
        when others then return false;
      end $$;
      select jsonb_agg(pg_temp.stores(r ->> 'table', ${lit(tenantId)}::uuid, r -> 'row') order by i)
      from jsonb_array_elements(${lit(JSON.stringify(rows))}::jsonb) with ordinality as x (r, i);`),
  );
}

Deno.test("contracts: CRM field rules get the same verdict from the tools' schemas and the tables' checks", async () => {
  const tenant = await createTenant([]);
  const companyId = (await stack.psql(`insert into public.crm_companies (tenant_id, name)
    values (${lit(tenant.id)}::uuid, 'Notes go here') returning id`)).trim();
  const all = [...FIELDS, ...STRICTER_IN_FUNCTION];
  const verdicts = all.map(([entity, field, value]) => {
    const rules = FIELD_RULES[entity] as Record<string, z.ZodType>;
    const parsed = rules[field].safeParse(value);
    // What the tool would send: the parsed value when the function accepts it.
    const sent = parsed.success ? parsed.data : value;
    return {
      function: parsed.success,
      row: { table: TABLES[entity], row: { ...baseRow(entity, companyId), [field]: sent } },
    };
  });
  const database = await databaseAcceptsRows(tenant.id, verdicts.map((v) => v.row));
  const label = ([entity, field, value]: FieldCase) =>
    `${entity}.${field} = ${JSON.stringify(value).slice(0, 40)}`;
  deepStrictEqual(
    disagreements(
      all.map((c, i) => [label(c), verdicts[i].function, database[i]]),
      [
        ...FIELDS.map((c): [boolean, boolean] => [c[3], c[3]]),
        ...STRICTER_IN_FUNCTION.map((): [boolean, boolean] => [false, true]),
      ],
    ),
    [],
  );
});

/** A GET tool whose one argument `q` has this schema (as in tests/support/hostile_definitions.ts). */
const withQ = (schema: unknown) => ({
  method: "GET",
  path: "/search",
  query: ["q"],
  input_schema: { type: "object", properties: { q: schema }, required: ["q"] },
});
const deep = (n: number): unknown => n === 0 ? {} : { oneOf: [deep(n - 1)] };
const strings = (n: number) => Array.from({ length: n }, () => ({ type: "string" }));

/** [what, input schema of q]: refused by both sides with the same messages. */
const CHOICES_REFUSED: [string, unknown][] = [
  ["too many choices", { anyOf: strings(33) }],
  ["too many oneOf choices", { oneOf: strings(40) }],
  ["too deep", deep(7)],
  ["empty", { oneOf: [] }],
  ["not a list", { anyOf: "string" }],
  ["a choice that is not a schema", { anyOf: [{}, 5] }],
  ["hostile choice: look-ahead", { anyOf: [{ type: "string", pattern: "^(?=x)" }, {}] }],
  ["hostile choice: multipleOf 0", { oneOf: [{ type: "number", multipleOf: 0 }] }],
  ["unsatisfiable choice", { anyOf: [{ type: "string", minLength: 3, maxLength: 1 }] }],
  ["choices past the schema count", {
    type: "object",
    properties: Object.fromEntries(
      Array.from({ length: 16 }, (_, i) => [`p${i}`, { anyOf: strings(32) }]),
    ),
  }],
];

/** Accepted by both sides. */
const CHOICES_ACCEPTED: [string, unknown][] = [
  ["anyOf", { anyOf: [{ type: "string" }, { type: "integer" }] }],
  ["oneOf of 32", { oneOf: strings(32) }],
  ["nested to the limit", deep(5)],
  ["choices with patterns", { anyOf: [{ type: "string", pattern: "^[a-z]+$" }, { const: 1 }] }],
  ["object choices", {
    type: "object",
    oneOf: [
      { properties: { card: { type: "string" } }, required: ["card"] },
      { properties: { iban: { type: "string" } }, required: ["iban"] },
    ],
  }],
];

Deno.test("contracts: anyOf/oneOf get the same verdict and the same messages from the function and the database", async () => {
  const cases = [...CHOICES_REFUSED, ...CHOICES_ACCEPTED];
  const database = JSON.parse(
    await stack.psql(`select jsonb_agg(to_jsonb(private.http_tool_definition_problems(d))
      order by i) from jsonb_array_elements(${
      lit(JSON.stringify(cases.map(([, schema]) => withQ(schema))))
    }::jsonb) with ordinality as c (d, i)`),
  ) as string[][];
  const fn = cases.map(([, schema]) => {
    try {
      parseHttpDefinition("case", withQ(schema));
      return [];
    } catch (err) {
      return (err as DefinitionError).problems;
    }
  });
  const differences = cases.flatMap(([what], i) => {
    const expected = i < CHOICES_REFUSED.length ? "refused" : "accepted";
    const got = [fn[i], database[i]].map((p) => p.length ? "refused" : "accepted");
    return got[0] === expected && got[1] === expected &&
        JSON.stringify([...fn[i]].sort()) === JSON.stringify([...database[i]].sort())
      ? []
      : [`${what}: function ${JSON.stringify(fn[i])}, database ${JSON.stringify(database[i])}`];
  });
  deepStrictEqual(differences, []);
});
