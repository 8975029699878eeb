/**
 * CRM tools over the tenant's own records in the project database (companies, contacts, deals,
 * notes). The tenant is the caller's, from the request: no argument names a tenant, and every
 * query goes through crmRecords, which is bound to it.
 */
import { crmRecords } from "./records.ts";
import { ReadInput, ReadOutput, WriteInput, type WriteOperation, WriteOutput } from "./schemas.ts";
import { defineTool, structured, ToolError } from "../contract.ts";

const crmRead = defineTool({
  name: "crm_read",
  family: "crm",
  title: "Read CRM records",
  description:
    "Reads the CRM records of your organisation: companies, contacts, deals and notes. " +
    "Give entity and id to get one record (with its newest notes), or entity with an optional " +
    "query, filters and limit to search, newest first; pass next_cursor back as cursor for the " +
    "next page. Archived records are left out of searches unless filters.include_archived is true.",
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  input: ReadInput,
  output: ReadOutput,
  run: async ({ entity, id, query, filters, limit, cursor }, call) => {
    const crm = crmRecords(call);
    if (id !== undefined) {
      if (query !== undefined || filters !== undefined || cursor !== undefined) {
        throw new ToolError(
          "Give either id (to get one record) or query, filters and cursor (to search), not both.",
        );
      }
      return structured({ entity, ...await crm.get(entity, id) });
    }
    return structured({ entity, ...await crm.search(entity, { query, filters, limit, cursor }) });
  },
});

const crmWrite = defineTool({
  name: "crm_write",
  family: "crm",
  title: "Change CRM records",
  description: "Creates, updates, archives or restores CRM records of your organisation " +
    "(companies, contacts, deals) and adds notes to them, one operation per call. Updates change " +
    "only the fields given (null clears an optional field). Archived records are hidden from " +
    "searches and cannot be changed or newly linked to until restored. Returns the record.",
  // Not only additive: update overwrites values and archive hides records, so destructive; and
  // repeating a create or add_note makes another record, so not idempotent.
  annotations: {
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: false,
    openWorldHint: false,
  },
  input: WriteInput,
  output: WriteOutput,
  run: async ({ operation }, call) => {
    const record = await perform(operation, crmRecords(call));
    return structured({ action: operation.action, entity: operation.entity, record });
  },
});

function perform(op: WriteOperation, crm: ReturnType<typeof crmRecords>) {
  switch (op.action) {
    case "create":
      return crm.create(op.entity, op.fields);
    case "update":
      return crm.update(op.entity, op.id, op.fields);
    case "archive":
      return crm.setArchived(op.entity, op.id, true);
    case "restore":
      return crm.setArchived(op.entity, op.id, false);
    case "add_note":
      return crm.addNote(op.entity, op.id, op.body);
  }
}

export const crmTools = [crmRead, crmWrite];
