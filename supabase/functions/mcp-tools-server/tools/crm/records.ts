/**
 * The tenant's CRM records, for one call. Bound to the caller's tenant when created, so no method takes a
 * tenant id: every SQL function gets `p_tenant_id` from here and from nowhere else.
 */
import { DatabaseError, StoreUnavailableError } from "../../data/rpc.ts";
import type { Entity, ReadFilters } from "./schemas.ts";
import { type ToolCallContext, ToolError } from "../contract.ts";
import type { z } from "zod";

type Json = Record<string, unknown>;
type Filters = z.output<typeof ReadFilters>;

export interface SearchRequest {
  query?: string;
  filters?: Filters;
  limit: number;
  cursor?: string;
}

export interface CrmRecords {
  get(entity: Entity, id: string): Promise<{ record: Json; recent_notes?: Json[] }>;
  search(
    entity: Entity,
    request: SearchRequest,
  ): Promise<{ items: Json[]; next_cursor: string | null }>;
  create(entity: Entity, fields: Json): Promise<Json>;
  update(entity: Entity, id: string, fields: Json): Promise<Json>;
  setArchived(entity: Entity, id: string, archived: boolean): Promise<Json>;
  addNote(entity: Entity, id: string, body: string): Promise<Json>;
}

export function crmRecords(
  { tenant, services }: Pick<ToolCallContext, "tenant" | "services">,
): CrmRecords {
  const { db } = services;
  const call = async (fn: string, args: Json) => {
    refuseIllFormedText(args);
    try {
      return await db.call(fn, { p_tenant_id: tenant.id, ...args }) as Json;
    } catch (err) {
      throw asToolError(err);
    }
  };
  return {
    get: (entity, id) =>
      call("crm_get", { p_entity: entity, p_id: id }) as Promise<
        { record: Json; recent_notes?: Json[] }
      >,
    async search(entity, { query, filters, limit, cursor }) {
      const scope = searchScope(entity, query, filters);
      const after = cursor === undefined ? undefined : decodeCursor(cursor, scope);
      const page = await call("crm_search", {
        p_entity: entity,
        p_query: query ?? null,
        p_filters: filters ?? {},
        p_limit: limit,
        p_after_created_at: after?.created_at ?? null,
        p_after_id: after?.id ?? null,
      }) as { items: Json[]; next: Position | null };
      return {
        items: page.items,
        next_cursor: page.next ? encodeCursor(scope, page.next) : null,
      };
    },
    create: (entity, fields) => call("crm_create", { p_entity: entity, p_fields: fields }),
    update: (entity, id, fields) =>
      call("crm_update", { p_entity: entity, p_id: id, p_fields: fields }),
    setArchived: (entity, id, archived) =>
      call("crm_set_archived", { p_entity: entity, p_id: id, p_archived: archived }),
    addNote: (entity, id, body) =>
      call("crm_add_note", { p_entity: entity, p_id: id, p_body: body }),
  };
}

/** An unpaired UTF-16 surrogate: JSON can escape it, but no database text can hold it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function refuseIllFormedText(value: unknown, path = ""): void {
  if (typeof value === "string") {
    if (LONE_SURROGATE.test(value)) {
      throw new ToolError(
        `The text of ${path.replace(/^p_(fields\.)?/, "") || "an argument"} holds an unpaired ` +
          "UTF-16 surrogate (half of an emoji or other character); send well-formed Unicode text.",
      );
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => refuseIllFormedText(item, `${path}[${i}]`));
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      refuseIllFormedText(item, path ? `${path}.${key}` : key);
    }
  }
}

/**
 * The SQL functions raise SQLSTATE class CR with a sentence meant for the caller; constraint
 * and data errors (classes 23 and 22) mean a value got past the input schema and are worth
 * showing too. Anything else is ours to investigate, so it is left to the generic handler.
 */
function asToolError(err: unknown): unknown {
  if (err instanceof StoreUnavailableError) {
    return new ToolError(
      "The CRM database did not answer in time. Nothing was changed; try again in a few seconds.",
    );
  }
  if (err instanceof DatabaseError) {
    if (err.code.startsWith("CR")) return new ToolError(err.message);
    if (err.code.startsWith("23") || err.code.startsWith("22")) {
      return new ToolError(`The CRM database refused the values: ${err.message}`);
    }
  }
  return err;
}

// Cursors -----------------------------------------------------------------------------------------

/** Where the previous page ended: the last record's sort key. */
interface Position {
  created_at: string;
  id: string;
}

/**
 * A cursor is only valid for the search that produced it; a short fingerprint of entity, query
 * and filters catches a cursor reused with different ones, which would otherwise page silently
 * through a different result.
 */
function searchScope(entity: Entity, query?: string, filters?: Filters): string {
  const canonical = JSON.stringify([entity, query ?? null, sortedEntries(filters ?? {})]);
  let hash = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < canonical.length; i++) {
    hash = Math.imul(hash ^ canonical.charCodeAt(i), 0x01000193);
  }
  return (hash >>> 0).toString(36);
}

function sortedEntries(value: object): unknown {
  return Object.entries(value).sort(([a], [b]) => a.localeCompare(b));
}

function encodeCursor(scope: string, at: Position): string {
  const json = JSON.stringify({ s: scope, c: at.created_at, i: at.id });
  return btoa(json).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}:\d{2}|Z)$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function decodeCursor(cursor: string, scope: string): Position {
  let parsed: { s?: unknown; c?: unknown; i?: unknown } | undefined;
  try {
    parsed = JSON.parse(atob(cursor.replaceAll("-", "+").replaceAll("_", "/")));
  } catch {
    parsed = undefined;
  }
  if (
    typeof parsed?.c !== "string" || !TIMESTAMP.test(parsed.c) ||
    typeof parsed.i !== "string" || !UUID.test(parsed.i)
  ) {
    throw new ToolError(
      "The cursor is not one crm_read returned. Repeat the search without a cursor to start over.",
    );
  }
  if (parsed.s !== scope) {
    throw new ToolError(
      "The cursor belongs to a search with a different entity, query or filters. Pass the same " +
        "ones as for the first page, or leave out the cursor to start a new search.",
    );
  }
  return { created_at: parsed.c, id: parsed.i };
}
