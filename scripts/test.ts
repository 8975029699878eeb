// `deno task test [deno test args…]`: runs the tests against a fresh throwaway stack.
//
// Arguments go to `deno test` (a filter, files); without file arguments it runs tests/.
// Tests reach the stack through the TEST_STACK variable (see connectStack in stack.ts).
// Runs naming only tests/unit start no stack at all: those tests need no Postgres.
// The stack's function processes run the deployed artefact: `deno task build`'s output, built
// fresh for the run, on the edge runtime's Deno.

import { join } from "node:path";
import { buildFunction } from "./build.ts";
import { countJunit, summaryLine } from "./lib/junit.ts";
import { type Stack, StackError, startStack, testStackInfo } from "./stack.ts";

const ROOT = join(import.meta.dirname!, "..");
/** Short cache lifetimes in the function so expiry tests finish quickly. */
const FUNCTION_ENV = { TENANT_CACHE_TTL_MS: "500", TENANT_NEGATIVE_TTL_MS: "200" };

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The caller's arguments, plus tests/ unless they name files or directories themselves. */
function testArgs(args: string[]): string[] {
  const namesPaths = args.some((arg) => !arg.startsWith("-") && exists(arg));
  return namesPaths ? args : [...args, join(ROOT, "tests")];
}

/** Whether every file or folder named lies under tests/unit (then no stack is needed). */
function unitOnly(paths: string[]): boolean {
  const unit = join(ROOT, "tests", "unit");
  const named = paths.filter((arg) => !arg.startsWith("-") && exists(arg));
  return named.length > 0 &&
    named.every((path) => {
      const full = Deno.realPathSync(path);
      return full === unit || full.startsWith(unit + "/");
    });
}

async function main(): Promise<number> {
  const started = performance.now();
  const interrupted = new AbortController();
  let testRun: Deno.ChildProcess | undefined;
  const onSignal = () => {
    interrupted.abort();
    try {
      testRun?.kill("SIGTERM");
    } catch {
      // Already finished.
    }
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  const args = testArgs(Deno.args);
  let stack: Stack | undefined;
  const reportDir = await Deno.makeTempDir({ prefix: "mcp-test-report-" });
  if (!unitOnly(args)) {
    try {
      const functionEntry = await buildFunction(join(reportDir, "build"));
      stack = await startStack({
        functionEnv: FUNCTION_ENV,
        functionEntry,
        signal: interrupted.signal,
      });
    } catch (err) {
      await Deno.remove(reportDir, { recursive: true });
      if (interrupted.signal.aborted) return 130;
      console.error(err instanceof StackError ? err.message : err);
      return 1;
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.error(`test stack ready in ${seconds}s at ${stack.supabaseUrl}`);
  }

  const junit = join(reportDir, "junit.xml");
  let code = 130;
  try {
    if (!interrupted.signal.aborted) {
      testRun = new Deno.Command(Deno.execPath(), {
        args: ["test", "-A", `--junit-path=${junit}`, ...args],
        env: {
          DENO_NO_UPDATE_CHECK: "1",
          ...(stack ? { TEST_STACK: JSON.stringify(testStackInfo(stack)) } : {}),
        },
        stdin: "null",
      }).spawn();
      code = (await testRun.status).code;
    }
  } finally {
    await stack?.stop();
  }

  try {
    console.log(summaryLine(countJunit(await Deno.readTextFile(junit))));
  } catch {
    console.log(`tests: no report (deno test exited with code ${code} before writing one)`);
  }
  await Deno.remove(reportDir, { recursive: true });
  return code;
}

Deno.exit(await main());
