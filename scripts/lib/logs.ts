// Reading the end of child-process logs for error messages.

const TAIL_BYTES = 16 * 1024;

/** Returns the last `lines` lines of a log file, or "" when it does not exist. */
export async function tailFile(path: string, lines = 30): Promise<string> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch {
    return "";
  }
  try {
    const { size } = await file.stat();
    const start = Math.max(0, size - TAIL_BYTES);
    await file.seek(start, Deno.SeekMode.Start);
    const buffer = new Uint8Array(size - start);
    let read = 0;
    while (read < buffer.length) {
      const n = await file.read(buffer.subarray(read));
      if (n === null) break;
      read += n;
    }
    const text = new TextDecoder().decode(buffer.subarray(0, read));
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  } finally {
    file.close();
  }
}

/** Formats `headline` followed by the tail of the log that explains it. */
export async function withLogTail(headline: string, logPath: string): Promise<string> {
  const tail = await tailFile(logPath);
  if (!tail) return `${headline}\n(log ${logPath} is empty)`;
  return `${headline}\n--- last lines of ${logPath} ---\n${tail}\n---`;
}
