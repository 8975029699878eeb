/**
 * A realistic tool set for the benchmark only: 24 tools with zod input and output schemas of
 * the size a CRM / workspace integration has. Every variant serves exactly these definitions.
 * Handlers do deterministic in-memory work, so the figures measure the serving path, not I/O.
 * Never part of the function's own catalog.
 */
import { z } from "zod";
import {
  defineTool,
  structured,
  type ToolCallContext,
  type ToolDefinition,
} from "../supabase/functions/mcp-tools-server/tools/contract.ts";

export const BENCH_FAMILY = "bench";

const id = z.uuid().describe("Record id.");
const limit = z.number().int().min(1).max(100).default(20).describe("Page size.");
const cursor = z.string().max(200).optional().describe("Opaque cursor from a previous page.");
const email = z.email().describe("E-mail address.");
const tags = z.array(z.string().min(1).max(40)).max(20).default([]).describe("Labels.");
const stage = z.enum(["lead", "qualified", "proposal", "negotiation", "won", "lost"]);
const currency = z.enum(["USD", "EUR", "GBP", "JPY"]);
const when = z.iso.datetime().describe("ISO 8601 timestamp.");
const day = z.iso.date().describe("ISO 8601 date.");

const contact = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string(),
  company: z.string().nullable(),
  tags: z.array(z.string()),
});
const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), next_cursor: z.string().nullable() });
const ack = z.object({ ok: z.boolean(), id: z.string() });

const readOnly = { readOnlyHint: true, idempotentHint: true, openWorldHint: false };
const writes = { readOnlyHint: false, destructiveHint: false, openWorldHint: false };

/** A stable fake id derived from the input, so results are deterministic. */
function fakeId(seed: string): string {
  let h = 2166136261;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 16777619);
  const hex = (h >>> 0).toString(16).padStart(8, "0");
  return `${hex}-0000-4000-8000-${hex}${hex.slice(0, 4)}`;
}

function contactsFor(query: string, n: number, call: ToolCallContext) {
  return Array.from({ length: Math.min(n, 3) }, (_, i) => ({
    id: fakeId(`${call.tenant.id}:${query}:${i}`),
    name: `${query} ${i + 1}`,
    email: `${query.toLowerCase().replace(/\W+/g, ".")}.${i + 1}@example.com`,
    company: i % 2 ? null : "Example Ltd",
    tags: ["customer"],
  }));
}

const tools = [
  defineTool({
    name: "bench_search_contacts",
    family: BENCH_FAMILY,
    title: "Search contacts",
    description: "Finds contacts whose name, e-mail or company matches the query.",
    annotations: readOnly,
    input: z.object({
      query: z.string().min(1).max(200).describe("Free text to match."),
      limit,
      tags: tags.optional(),
      include_archived: z.boolean().default(false),
    }),
    output: page(contact),
    run: ({ query, limit }, call) =>
      structured({ items: contactsFor(query, limit, call), next_cursor: null }),
  }),
  defineTool({
    name: "bench_get_contact",
    family: BENCH_FAMILY,
    title: "Get contact",
    description: "Returns one contact by id.",
    annotations: readOnly,
    input: z.object({ id }),
    output: contact,
    run: ({ id }) =>
      structured({ id, name: "Ada Lovelace", email: "ada@example.com", company: null, tags: [] }),
  }),
  defineTool({
    name: "bench_create_contact",
    family: BENCH_FAMILY,
    title: "Create contact",
    description: "Creates a contact and returns its id.",
    annotations: writes,
    input: z.object({
      name: z.string().min(1).max(200),
      email,
      phone: z.string().regex(/^\+?[0-9 ()-]{6,20}$/).optional(),
      company: z.string().max(200).optional(),
      tags,
    }),
    output: ack,
    run: ({ email }) => structured({ ok: true, id: fakeId(email) }),
  }),
  defineTool({
    name: "bench_update_contact",
    family: BENCH_FAMILY,
    title: "Update contact",
    description: "Changes the given fields of a contact.",
    annotations: { ...writes, idempotentHint: true },
    input: z.object({
      id,
      patch: z.object({
        name: z.string().min(1).max(200).optional(),
        email: email.optional(),
        company: z.string().max(200).nullable().optional(),
        tags: tags.optional(),
      }),
    }),
    output: ack,
    run: ({ id }) => structured({ ok: true, id }),
  }),
  defineTool({
    name: "bench_delete_contact",
    family: BENCH_FAMILY,
    title: "Delete contact",
    description: "Deletes a contact. Activities and deals keep a reference to its name.",
    annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: false },
    input: z.object({ id, reason: z.string().max(500).optional() }),
    output: ack,
    run: ({ id }) => structured({ ok: true, id }),
  }),
  defineTool({
    name: "bench_list_companies",
    family: BENCH_FAMILY,
    title: "List companies",
    description: "Lists companies, newest first.",
    annotations: readOnly,
    input: z.object({ cursor, limit, industry: z.string().max(80).optional() }),
    output: page(z.object({ id: z.string(), name: z.string(), industry: z.string() })),
    run: () =>
      structured({
        items: [{ id: fakeId("co"), name: "Example Ltd", industry: "software" }],
        next_cursor: null,
      }),
  }),
  defineTool({
    name: "bench_get_company",
    family: BENCH_FAMILY,
    title: "Get company",
    description: "Returns one company with its headcount and open deal count.",
    annotations: readOnly,
    input: z.object({ id }),
    output: z.object({
      id: z.string(),
      name: z.string(),
      headcount: z.number(),
      deals: z.number(),
    }),
    run: ({ id }) => structured({ id, name: "Example Ltd", headcount: 42, deals: 3 }),
  }),
  defineTool({
    name: "bench_create_deal",
    family: BENCH_FAMILY,
    title: "Create deal",
    description: "Opens a deal for a contact.",
    annotations: writes,
    input: z.object({
      title: z.string().min(1).max(200),
      amount: z.number().positive().max(1e9),
      currency,
      stage: stage.default("lead"),
      contact_id: id,
      close_date: day.optional(),
    }),
    output: ack,
    run: ({ title }) => structured({ ok: true, id: fakeId(title) }),
  }),
  defineTool({
    name: "bench_update_deal_stage",
    family: BENCH_FAMILY,
    title: "Move deal",
    description: "Moves a deal to another stage, with an optional note.",
    annotations: { ...writes, idempotentHint: true },
    input: z.object({ id, stage, note: z.string().max(2000).optional() }),
    output: ack,
    run: ({ id }) => structured({ ok: true, id }),
  }),
  defineTool({
    name: "bench_list_deals",
    family: BENCH_FAMILY,
    title: "List deals",
    description: "Lists deals filtered by stage, owner and amount.",
    annotations: readOnly,
    input: z.object({
      stage: stage.optional(),
      owner: email.optional(),
      min_amount: z.number().nonnegative().optional(),
      max_amount: z.number().nonnegative().optional(),
      cursor,
      limit,
    }),
    output: page(z.object({ id: z.string(), title: z.string(), amount: z.number(), stage })),
    run: ({ stage }) =>
      structured({
        items: [{ id: fakeId("deal"), title: "Renewal", amount: 1200, stage: stage ?? "lead" }],
        next_cursor: null,
      }),
  }),
  defineTool({
    name: "bench_log_activity",
    family: BENCH_FAMILY,
    title: "Log activity",
    description: "Records a call, e-mail, meeting or note against a contact.",
    annotations: writes,
    input: z.object({
      contact_id: id,
      kind: z.enum(["call", "email", "meeting", "note"]),
      summary: z.string().min(1).max(5000),
      occurred_at: when.optional(),
    }),
    output: ack,
    run: ({ contact_id, summary }) => structured({ ok: true, id: fakeId(contact_id + summary) }),
  }),
  defineTool({
    name: "bench_list_activities",
    family: BENCH_FAMILY,
    title: "List activities",
    description: "Lists a contact's activities, newest first.",
    annotations: readOnly,
    input: z.object({ contact_id: id, since: when.optional(), limit }),
    output: page(z.object({ id: z.string(), kind: z.string(), summary: z.string() })),
    run: ({ contact_id }) =>
      structured({
        items: [{ id: fakeId(contact_id), kind: "call", summary: "Intro call" }],
        next_cursor: null,
      }),
  }),
  defineTool({
    name: "bench_create_task",
    family: BENCH_FAMILY,
    title: "Create task",
    description: "Creates a follow-up task.",
    annotations: writes,
    input: z.object({
      title: z.string().min(1).max(200),
      due: day,
      assignee: email.optional(),
      priority: z.enum(["low", "normal", "high"]).default("normal"),
    }),
    output: ack,
    run: ({ title, due }) => structured({ ok: true, id: fakeId(title + due) }),
  }),
  defineTool({
    name: "bench_complete_task",
    family: BENCH_FAMILY,
    title: "Complete task",
    description: "Marks a task as done.",
    annotations: { ...writes, idempotentHint: true },
    input: z.object({ id }),
    output: ack,
    run: ({ id }) => structured({ ok: true, id }),
  }),
  defineTool({
    name: "bench_list_tasks",
    family: BENCH_FAMILY,
    title: "List tasks",
    description: "Lists tasks by status and assignee.",
    annotations: readOnly,
    input: z.object({
      status: z.enum(["open", "done", "all"]).default("open"),
      assignee: email.optional(),
      limit,
    }),
    output: page(z.object({ id: z.string(), title: z.string(), due: z.string() })),
    run: () =>
      structured({
        items: [{ id: fakeId("task"), title: "Send proposal", due: "2026-12-01" }],
        next_cursor: null,
      }),
  }),
  defineTool({
    name: "bench_search_documents",
    family: BENCH_FAMILY,
    title: "Search documents",
    description: "Full-text search over the workspace's documents.",
    annotations: readOnly,
    input: z.object({
      query: z.string().min(1).max(500),
      filters: z.object({
        type: z.enum(["doc", "sheet", "slide", "pdf"]).optional(),
        author: email.optional(),
        after: day.optional(),
      }).default({}),
      limit,
    }),
    output: page(z.object({ id: z.string(), title: z.string(), snippet: z.string() })),
    run: ({ query }) =>
      structured({
        items: [{ id: fakeId(query), title: `About ${query}`, snippet: `…${query}…` }],
        next_cursor: null,
      }),
  }),
  defineTool({
    name: "bench_get_document",
    family: BENCH_FAMILY,
    title: "Get document",
    description: "Returns a document's metadata and, if asked, its body.",
    annotations: readOnly,
    input: z.object({ id, include_body: z.boolean().default(false) }),
    output: z.object({ id: z.string(), title: z.string(), body: z.string().nullable() }),
    run: ({ id, include_body }) =>
      structured({ id, title: "Handbook", body: include_body ? "Welcome." : null }),
  }),
  defineTool({
    name: "bench_summarize_text",
    family: BENCH_FAMILY,
    title: "Summarize text",
    description: "Returns the first sentences of a text, up to a word budget.",
    annotations: readOnly,
    input: z.object({
      text: z.string().min(1).max(10_000),
      max_words: z.number().int().min(5).max(500).default(50),
    }),
    output: z.object({ summary: z.string(), words: z.number() }),
    run: ({ text, max_words }) => {
      const words = text.split(/\s+/).slice(0, max_words);
      return structured({ summary: words.join(" "), words: words.length });
    },
  }),
  defineTool({
    name: "bench_translate_text",
    family: BENCH_FAMILY,
    title: "Translate text",
    description: "Translates text into the target language (ISO 639-1 code).",
    annotations: readOnly,
    input: z.object({
      text: z.string().min(1).max(10_000),
      target_language: z.string().regex(/^[a-z]{2}$/),
    }),
    output: z.object({ text: z.string(), language: z.string() }),
    run: ({ text, target_language }) => structured({ text, language: target_language }),
  }),
  defineTool({
    name: "bench_convert_units",
    family: BENCH_FAMILY,
    title: "Convert units",
    description: "Converts a length between metric and imperial units.",
    annotations: readOnly,
    input: z.object({
      value: z.number().finite(),
      from: z.enum(["mm", "cm", "m", "km", "in", "ft", "mi"]),
      to: z.enum(["mm", "cm", "m", "km", "in", "ft", "mi"]),
    }),
    output: z.object({ value: z.number(), unit: z.string() }),
    run: ({ value, from, to }) => {
      const metres = { mm: 1e-3, cm: 1e-2, m: 1, km: 1e3, in: 0.0254, ft: 0.3048, mi: 1609.344 };
      return structured({ value: (value * metres[from]) / metres[to], unit: to });
    },
  }),
  defineTool({
    name: "bench_calculate_invoice_total",
    family: BENCH_FAMILY,
    title: "Invoice total",
    description: "Computes subtotal, tax and total of invoice lines, with an optional discount.",
    annotations: readOnly,
    input: z.object({
      currency,
      lines: z.array(z.object({
        description: z.string().min(1).max(200),
        quantity: z.number().int().positive().max(1_000_000),
        unit_price: z.number().nonnegative().max(1e9),
        tax_rate: z.number().min(0).max(1).default(0),
      })).min(1).max(200),
      discount_percent: z.number().min(0).max(100).default(0),
    }),
    output: z.object({
      currency,
      subtotal: z.number(),
      tax: z.number(),
      discount: z.number(),
      total: z.number(),
      lines: z.number().int(),
    }),
    run: ({ currency, lines, discount_percent }) => {
      let subtotal = 0;
      let tax = 0;
      for (const line of lines) {
        const net = line.quantity * line.unit_price;
        subtotal += net;
        tax += net * line.tax_rate;
      }
      const discount = (subtotal + tax) * discount_percent / 100;
      const round = (n: number) => Math.round(n * 100) / 100;
      return structured({
        currency,
        subtotal: round(subtotal),
        tax: round(tax),
        discount: round(discount),
        total: round(subtotal + tax - discount),
        lines: lines.length,
      });
    },
  }),
  defineTool({
    name: "bench_schedule_meeting",
    family: BENCH_FAMILY,
    title: "Schedule meeting",
    description: "Books a meeting with the given attendees.",
    annotations: writes,
    input: z.object({
      title: z.string().min(1).max(200),
      attendees: z.array(email).min(1).max(50),
      start: when,
      duration_minutes: z.number().int().min(5).max(480).default(30),
      timezone: z.string().max(64).default("UTC"),
    }),
    output: ack,
    run: ({ title, start }) => structured({ ok: true, id: fakeId(title + start) }),
  }),
  defineTool({
    name: "bench_send_notification",
    family: BENCH_FAMILY,
    title: "Send notification",
    description: "Queues a message to a person over e-mail, chat or SMS.",
    annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
    input: z.object({
      channel: z.enum(["email", "chat", "sms"]),
      recipient: z.string().min(1).max(200),
      message: z.string().min(1).max(2000),
      urgent: z.boolean().default(false),
    }),
    output: ack,
    run: ({ recipient, message }) => structured({ ok: true, id: fakeId(recipient + message) }),
  }),
  defineTool({
    name: "bench_get_weather",
    family: BENCH_FAMILY,
    title: "Weather",
    description: "Current conditions for a city.",
    annotations: { readOnlyHint: true, openWorldHint: true },
    input: z.object({
      city: z.string().min(1).max(100),
      units: z.enum(["metric", "imperial"]).default("metric"),
    }),
    output: z.object({ city: z.string(), temperature: z.number(), conditions: z.string() }),
    run: ({ city, units }) =>
      structured({ city, temperature: units === "metric" ? 18 : 64, conditions: "cloudy" }),
  }),
];

export const benchTools: ToolDefinition[] = tools;
export const BENCH_TOOL_NAMES: string[] = benchTools.map((t) => t.name).sort();

/** The tools/call every variant answers in the throughput runs. */
export const BENCH_CALL = {
  name: "bench_calculate_invoice_total",
  arguments: {
    currency: "EUR",
    lines: [
      { description: "Licence", quantity: 12, unit_price: 49.5, tax_rate: 0.2 },
      { description: "Support", quantity: 1, unit_price: 900, tax_rate: 0.2 },
      { description: "Training day", quantity: 2, unit_price: 1200 },
    ],
    discount_percent: 5,
  },
};

/** What BENCH_CALL must return, so a variant that answers wrongly is caught before timing. */
export const BENCH_CALL_TOTAL = 3983.16;
