// Long-running child processes of the stack: output goes straight to a log file, and each
// one leaves a pid record so a later run can reap it if this process dies without cleanup.

import { join } from "node:path";
import { onExit } from "./exit_hook.ts";

const STOP_GRACE_MS = 3000;

export interface ChildOptions {
  /** Short name used in messages, e.g. "postgrest". */
  name: string;
  cmd: string;
  args: string[];
  cwd?: string;
  env?: Record<string, string>;
  clearEnv?: boolean;
  logPath: string;
  /** Directory for pid records; see reapRecordedChildren. */
  pidDir: string;
}

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Settles when the process has exited. */
  readonly status: Promise<Deno.CommandStatus>;
  /** The exit status once the process has exited. */
  exited(): Deno.CommandStatus | undefined;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
  stop(): Promise<void>;
}

function isAlive(pid: number, marker: string): boolean {
  try {
    const cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
    return cmdline.includes(marker);
  } catch {
    return false;
  }
}

function signal(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(pid, sig);
  } catch {
    // Already exited.
  }
}

/**
 * Starts a child with stdout and stderr appended to `logPath`. The shell only sets up the
 * redirection and then execs, so the pid is the program's own and its output keeps flowing
 * to the file even if this process goes away.
 */
export async function spawnChild(opts: ChildOptions): Promise<Child> {
  await Deno.mkdir(opts.pidDir, { recursive: true });
  const process = new Deno.Command("/bin/sh", {
    args: ["-c", 'exec "$@" >>"$0" 2>&1', opts.logPath, opts.cmd, ...opts.args],
    cwd: opts.cwd,
    env: opts.env,
    clearEnv: opts.clearEnv,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const pid = process.pid;
  const record = join(opts.pidDir, String(pid));
  // The last argument (a script path for deno children) identifies the process best.
  Deno.writeTextFileSync(record, opts.args.at(-1) ?? opts.cmd);
  const unregister = onExit(() => signal(pid, "SIGTERM"));

  let exitStatus: Deno.CommandStatus | undefined;
  const status = process.status.then((s) => {
    exitStatus = s;
    unregister();
    try {
      Deno.removeSync(record);
    } catch {
      // Already reaped by someone else.
    }
    return s;
  });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      if (exitStatus) return;
      signal(pid, "SIGTERM");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), STOP_GRACE_MS);
      });
      const gone = await Promise.race([status.then(() => false), timedOut]);
      clearTimeout(timer);
      if (gone) signal(pid, "SIGKILL");
      await status;
    })();

  return { name: opts.name, pid, logPath: opts.logPath, status, exited: () => exitStatus, stop };
}

/**
 * Stops processes recorded in `pidDir` by an earlier run that died before cleaning up. A
 * record names the program, which must still match the pid's command line: pids get reused.
 */
export async function reapRecordedChildren(pidDir: string): Promise<number[]> {
  const reaped: number[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(pidDir)];
  } catch {
    return reaped;
  }
  for (const entry of entries) {
    const pid = Number(entry.name);
    const path = join(pidDir, entry.name);
    const marker = Deno.readTextFileSync(path);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid, marker)) {
      signal(pid, "SIGTERM");
      const deadline = Date.now() + STOP_GRACE_MS;
      while (isAlive(pid, marker) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (isAlive(pid, marker)) signal(pid, "SIGKILL");
      reaped.push(pid);
    }
    await Deno.remove(path).catch(() => {});
  }
  return reaped;
}
