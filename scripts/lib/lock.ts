// One stack per persisted directory: a second `deno task dev` would otherwise stop the first
// one's database while cleaning up what it takes for leftovers of a crash.

import { join } from "node:path";
import { StackError } from "./errors.ts";

function isDenoProcess(pid: number): boolean {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).includes("deno");
  } catch {
    return false;
  }
}

/** Claims `runDir` for this process; returns a function that releases it. */
export async function claimRunDir(runDir: string): Promise<() => Promise<void>> {
  const path = join(runDir, "stack.pid");
  const owner = Number((await Deno.readTextFile(path).catch(() => "")).trim());
  if (owner > 0 && owner !== Deno.pid && isDenoProcess(owner)) {
    throw new StackError(
      `Another stack is already running from ${runDir} (pid ${owner}). ` +
        `Stop it first (Ctrl-C in its terminal, or kill ${owner}).`,
    );
  }
  await Deno.writeTextFile(path, `${Deno.pid}\n`);
  return async () => {
    const current = Number((await Deno.readTextFile(path).catch(() => "")).trim());
    if (current === Deno.pid) await Deno.remove(path).catch(() => {});
  };
}
