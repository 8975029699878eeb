/**
 * The shapes of CRM records and of the crm_read / crm_write arguments. The input rules mirror the
 * CHECK constraints in supabase/migrations/*_crm.sql, so bad values are refused before any query,
 * with the field named; the database constraints stay as the last word. A test
 * (tests/integration/contracts_test.ts) runs a table of values through both and compares.
 */
import * as z from "zod";

export const ENTITIES = ["company", "contact", "deal", "note"] as const;
export const Entity = z.enum(ENTITIES).describe(
  "Kind of CRM record: company, contact, deal or note.",
);
export type Entity = z.infer<typeof Entity>;

/** The records notes can be added to. */
export const NoteTarget = z.enum(["company", "contact", "deal"]);

export const DEAL_STAGES = ["lead", "qualified", "proposal", "negotiation", "won", "lost"] as const;
export const DealStage = z.enum(DEAL_STAGES).describe(
  "Pipeline stage: lead, qualified, proposal, negotiation (open); won, lost (closed).",
);

export const Id = z.guid("must be a record id (a UUID) as returned by crm_read or crm_write");

/** As Postgres writes timestamptz to JSON; a short pattern keeps the published schemas small. */
const Timestamp = z.string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}:\d{2}|Z)$/)
  .meta({ format: "date-time" });

// Field rules -------------------------------------------------------------------------------------

const text = (max: number) => z.string().trim().min(1).max(max);

const DOMAIN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;
const PHONE = /^[0-9+() .x-]{3,40}$/;

const company = {
  name: text(200).describe("Company name."),
  domain: z.string().trim().toLowerCase().max(253)
    .regex(DOMAIN, "must be a host name like acme.com, without scheme or path")
    .describe("Web domain, e.g. acme.com. Unique among the tenant's companies."),
  industry: text(100).describe("Industry, e.g. Manufacturing."),
  employee_count: z.number().int().min(0).max(10_000_000).describe("Number of employees."),
};

const contact = {
  name: text(200).describe("Full name."),
  email: z.email().max(254).describe(
    "Email address. Unique among the tenant's contacts (ignoring case).",
  ),
  phone: z.string().trim().regex(PHONE, "may hold only digits, spaces and + ( ) . - x")
    .regex(/[0-9]/, "must contain a digit").describe("Phone number, e.g. +1 555 0100."),
  title: text(200).describe("Job title."),
  company_id: Id.describe("The company this contact works at."),
};

const deal = {
  title: text(200).describe("What is being sold."),
  stage: DealStage,
  amount: z.number().min(0).max(999_999_999_999.99).describe(
    "Expected value in the deal's currency; rounded to 2 decimals.",
  ),
  currency: z.string().trim().toUpperCase().regex(/^[A-Z]{3}$/, "must be a 3-letter ISO code")
    .describe("ISO 4217 currency code, e.g. USD or EUR. Default USD."),
  close_date: z.iso.date().describe("Expected (or actual) closing date, YYYY-MM-DD."),
  company_id: Id.describe("The company the deal is with."),
  contact_id: Id.describe("The main contact for the deal."),
};

const NoteBody = text(20_000).describe("The note text.");

/** The field rules, per entity: what contracts_test.ts holds against the database's checks. */
export const FIELD_RULES = { company, contact, deal, note: { body: NoteBody } };

/** Update: every field optional, at least one given; optional record fields may be cleared. */
function changes<S extends z.ZodRawShape>(shape: S) {
  return z.strictObject(shape)
    .refine((fields) => Object.keys(fields).length > 0, {
      message: "name at least one field to change",
    })
    .meta({ minProperties: 1 });
}

// Records (outputs) -------------------------------------------------------------------------------

const common = {
  id: Id,
  archived_at: Timestamp.nullable().describe("Set when archived; null while active."),
  created_at: Timestamp,
  updated_at: Timestamp,
};

export const Company = z.strictObject({
  ...common,
  name: z.string(),
  domain: z.string().nullable(),
  industry: z.string().nullable(),
  employee_count: z.number().int().nullable(),
}).meta({ id: "CrmCompany", description: "A company (account)." });

export const Contact = z.strictObject({
  ...common,
  name: z.string(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  title: z.string().nullable(),
  company_id: Id.nullable(),
}).meta({ id: "CrmContact", description: "A contact (person)." });

export const Deal = z.strictObject({
  ...common,
  title: z.string(),
  stage: DealStage,
  amount: z.number().nullable(),
  currency: z.string(),
  close_date: z.iso.date().nullable(),
  company_id: Id.nullable(),
  contact_id: Id.nullable(),
}).meta({ id: "CrmDeal", description: "A deal (opportunity)." });

export const Note = z.strictObject({
  ...common,
  body: z.string(),
  company_id: Id.nullable(),
  contact_id: Id.nullable(),
  deal_id: Id.nullable(),
}).meta({
  id: "CrmNote",
  description: "A note about exactly one company, contact or deal (the other two ids are null).",
});

export const CrmRecord = z.union([Company, Contact, Deal, Note]);

// crm_read ----------------------------------------------------------------------------------------

export const MAX_LIMIT = 100;

export const ReadFilters = z.strictObject({
  include_archived: z.boolean().optional().describe(
    "Also return archived records (default false).",
  ),
  industry: z.string().trim().min(1).max(100).optional().describe(
    "company: exact industry, ignoring case.",
  ),
  company_id: Id.optional().describe("contact, deal, note: only those linked to this company."),
  contact_id: Id.optional().describe("deal, note: only those linked to this contact."),
  deal_id: Id.optional().describe("note: only notes about this deal."),
  stages: z.array(DealStage).min(1).max(DEAL_STAGES.length).optional().describe(
    'deal: only deals in one of these stages, e.g. ["lead", "qualified"].',
  ),
}).describe("Narrow a search. Each filter applies to the entities named in its description.");

export const ReadInput = z.strictObject({
  entity: Entity,
  id: Id.optional().describe(
    "Get this one record (archived or not). Leave out to search instead.",
  ),
  query: z.string().trim().min(1).max(200).optional().describe(
    "Search: case-insensitive text contained in the name, email, phone, title, domain or " +
      "industry (companies, contacts), title (deals) or body (notes).",
  ),
  filters: ReadFilters.optional(),
  limit: z.number().int().min(1).max(MAX_LIMIT).default(20).describe(
    `Search: records per page, 1-${MAX_LIMIT} (default 20).`,
  ),
  cursor: z.string().min(1).max(1000).optional().describe(
    "Search: the next_cursor of the previous page, with the same entity, query and filters.",
  ),
});

export const ReadOutput = z.strictObject({
  entity: Entity,
  record: CrmRecord.optional().describe("Get: the record."),
  recent_notes: z.array(Note).optional().describe(
    "Get (company, contact, deal): its 5 newest active notes, newest first.",
  ),
  items: z.array(CrmRecord).optional().describe("Search: matching records, newest first."),
  next_cursor: z.string().nullable().optional().describe(
    "Search: pass as cursor to get the next page; null on the last page.",
  ),
});

// crm_write ---------------------------------------------------------------------------------------

const create = <E extends string, S extends z.ZodRawShape>(entity: E, fields: S) =>
  z.strictObject({
    action: z.literal("create"),
    entity: z.literal(entity),
    fields: z.strictObject(fields),
  });

const update = <E extends string, S extends z.ZodRawShape>(entity: E, fields: S) =>
  z.strictObject({
    action: z.literal("update"),
    entity: z.literal(entity),
    id: Id,
    fields: changes(fields),
  });

export const WriteOperation = z.discriminatedUnion("action", [
  z.discriminatedUnion("entity", [
    create("company", {
      name: company.name,
      domain: company.domain.optional(),
      industry: company.industry.optional(),
      employee_count: company.employee_count.optional(),
    }),
    create("contact", {
      name: contact.name,
      email: contact.email.optional(),
      phone: contact.phone.optional(),
      title: contact.title.optional(),
      company_id: contact.company_id.optional(),
    }),
    create("deal", {
      title: deal.title,
      stage: deal.stage.optional().describe("Default lead."),
      amount: deal.amount.optional(),
      currency: deal.currency.optional(),
      close_date: deal.close_date.optional(),
      company_id: deal.company_id.optional(),
      contact_id: deal.contact_id.optional(),
    }),
  ]).describe("Create a company, contact or deal. Returns the new record with its id."),
  z.discriminatedUnion("entity", [
    update("company", {
      name: company.name.optional(),
      domain: company.domain.nullable().optional(),
      industry: company.industry.nullable().optional(),
      employee_count: company.employee_count.nullable().optional(),
    }),
    update("contact", {
      name: contact.name.optional(),
      email: contact.email.nullable().optional(),
      phone: contact.phone.nullable().optional(),
      title: contact.title.nullable().optional(),
      company_id: contact.company_id.nullable().optional(),
    }),
    update("deal", {
      title: deal.title.optional(),
      stage: deal.stage.optional(),
      amount: deal.amount.nullable().optional(),
      currency: deal.currency.optional(),
      close_date: deal.close_date.nullable().optional(),
      company_id: deal.company_id.nullable().optional(),
      contact_id: deal.contact_id.nullable().optional(),
    }),
  ]).describe(
    "Change an active record: only the fields given change; null clears an optional field.",
  ),
  z.strictObject({ action: z.literal("archive"), entity: Entity, id: Id }).describe(
    "Archive a record: hidden from searches, kept for history, can be restored. " +
      "Archiving an archived record changes nothing.",
  ),
  z.strictObject({ action: z.literal("restore"), entity: Entity, id: Id }).describe(
    "Restore an archived record.",
  ),
  z.strictObject({ action: z.literal("add_note"), entity: NoteTarget, id: Id, body: NoteBody })
    .describe("Add a note about a company, contact or deal. Returns the note."),
]);
export type WriteOperation = z.infer<typeof WriteOperation>;

export const WriteInput = z.strictObject({ operation: WriteOperation });

export const WriteOutput = z.strictObject({
  action: z.enum(["create", "update", "archive", "restore", "add_note"]),
  entity: Entity,
  record: CrmRecord.describe("The record as it is now (for add_note: the new note)."),
});
