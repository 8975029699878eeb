/**
 * CPU time a server process has used (user + system, all its threads), from /proc on Linux.
 * Requests per second move with whatever else the machine runs; the CPU a server spends per
 * request moves far less, so the bench reports both.
 */

/** Microseconds of CPU `pid` has used so far; undefined where /proc can't tell (not Linux). */
export function cpuMicros(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and
    // 13th, in clock ticks (100 per second on Linux).
    const fields = stat.slice(stat.lastIndexOf(") ") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return undefined;
  }
}
