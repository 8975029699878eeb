// `deno task admin tools import-openapi`: reads the document with @readme/openapi-parser (JSON or
// YAML, OpenAPI 3.0 and 3.1, every $ref resolved, recursive schemas kept as object cycles), plans
// the tools, and hands them to public.import_http_tools, which saves them through the catalog's
// checks and says what was added, changed and removed.

import { dereference } from "@readme/openapi-parser";
import { type ImportPlan, planImport } from "./openapi_import.ts";

export interface ImportCommand {
  prefix?: string;
  only?: string[];
  tenant?: string;
  baseUrl?: string;
  dryRun: boolean;
}

/** What the importer found, beside what the database answers. */
export interface ImportReport {
  title: string;
  openapi: string;
  operations: { imported: number; skipped: number };
  skipped: ImportPlan["skipped"];
  notes: string[];
  auth: ImportPlan["auth"];
}

export async function loadDocument(file: string): Promise<Record<string, unknown>> {
  try {
    return await dereference(file) as unknown as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${file} is not a usable OpenAPI document: ${(err as Error).message}`);
  }
}

export async function importArgs(
  file: string,
  command: ImportCommand,
): Promise<{ args: Record<string, unknown>; report: ImportReport }> {
  const plan = planImport(await loadDocument(file), {
    prefix: command.prefix,
    only: command.only,
  });
  if (plan.tools.length === 0) {
    throw new Error(
      `No operation of ${file} can be imported${
        plan.skipped.length ? `: ${plan.skipped.map((s) => `${s.operation}: ${s.reason}`)[0]}` : ""
      }.`,
    );
  }
  const baseUrl = command.baseUrl ?? plan.baseUrl;
  const http: Record<string, unknown> = {};
  if (baseUrl) http.base_url = baseUrl;
  if (plan.auth.auth) http.auth = plan.auth.auth;
  return {
    args: {
      p_source: `openapi:${plan.title}${command.prefix ? `:${command.prefix}` : ""}`,
      p_tools: plan.tools.map(({ name, description, definition }) => ({
        name,
        description,
        definition,
      })),
      p_tenant_slug: command.tenant ?? null,
      p_http: http,
      p_dry_run: command.dryRun,
    },
    report: {
      title: plan.title,
      openapi: plan.openapi,
      operations: { imported: plan.tools.length, skipped: plan.skipped.length },
      skipped: plan.skipped,
      notes: plan.notes,
      auth: plan.auth,
    },
  };
}

type Json = Record<string, unknown>;

export function showImport(report: ImportReport, value: unknown): string {
  const result = value as Json;
  const names = (key: string) => (result[key] as string[] | undefined) ?? [];
  const changed = (result.changed as Json[]) ?? [];
  const lines = [
    `${
      result.dry_run ? "Dry run (nothing saved): " : ""
    }${report.title} (OpenAPI ${report.openapi})` +
    `${result.tenant ? ` for tenant ${result.tenant}` : ""}, source ${result.source}`,
    `  added ${names("added").length}, changed ${changed.length}, unchanged ${
      names("unchanged").length
    }, removed ${names("removed").length}`,
  ];
  for (const name of names("added")) lines.push(`  + ${name}`);
  for (const c of changed) lines.push(`  ~ ${c.name} (v${c.from_version} → v${c.version})`);
  for (const name of names("removed")) lines.push(`  - ${name}`);
  if (report.skipped.length) {
    lines.push(`Not imported (${report.skipped.length}):`);
    for (const s of report.skipped) lines.push(`  ${s.operation}: ${s.reason}`);
  }
  if (report.notes.length) {
    lines.push(`Left out of imported tools (${report.notes.length}):`);
    for (const note of report.notes) lines.push(`  ${note}`);
  }
  if (report.auth.auth) {
    const kept = result.tenant && !names("config_set").includes("auth");
    lines.push(
      `Auth: ${report.auth.scheme} → config.http.auth ${JSON.stringify(report.auth.auth)}${
        !result.tenant
          ? " (for the tenants that enable these tools)"
          : kept
          ? " (the tenant's own auth was kept)"
          : ""
      }; set the credential with set_tenant_secret('<slug>', '${report.auth.secret}', …).`,
    );
  }
  for (const u of report.auth.unmapped) lines.push(`Auth not mapped: ${u.scheme}: ${u.reason}`);
  return lines.join("\n");
}
