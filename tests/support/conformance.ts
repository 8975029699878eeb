/** Runs the official MCP conformance CLI (under Deno: it needs Node ≥ 22) and reads its results. */
import { join } from "node:path";

export interface Check {
  id: string;
  status: "SUCCESS" | "FAILURE" | "WARNING" | "SKIPPED" | "INFO";
  errorMessage?: string;
}

export interface ConformanceRun {
  /** 0 when every failure is listed as expected and no listed one passes. */
  code: number;
  output: string;
  /** Checks by scenario name, from the CLI's per-scenario checks.json files. */
  scenarios: Map<string, Check[]>;
}

const RESULT_DIR = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/;

export async function runConformance(
  specifier: string,
  url: string,
  args: string[],
): Promise<ConformanceRun> {
  const outputDir = await Deno.makeTempDir({ prefix: "mcp-conformance-" });
  try {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", specifier, "server", "--url", url, ...args, "-o", outputDir],
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
      stdin: "null",
    }).output();
    const decoder = new TextDecoder();
    const scenarios = new Map<string, Check[]>();
    for await (const entry of Deno.readDir(outputDir)) {
      const name = RESULT_DIR.exec(entry.name)?.[1];
      if (!entry.isDirectory || !name) continue;
      const checks = JSON.parse(
        await Deno.readTextFile(join(outputDir, entry.name, "checks.json")),
      );
      scenarios.set(name, [...(scenarios.get(name) ?? []), ...checks]);
    }
    return { code, output: decoder.decode(stdout) + decoder.decode(stderr), scenarios };
  } finally {
    await Deno.remove(outputDir, { recursive: true });
  }
}

export function failedChecks(checks: Check[]): Check[] {
  return checks.filter((check) => check.status === "FAILURE" || check.status === "WARNING");
}
