/** One JSON line per event. Callers pass key prefixes, never keys or secrets. */
export interface Logger {
  info(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

export const consoleLogger: Logger = {
  info: (event, fields) => console.log(line("info", event, fields)),
  error: (event, fields) => console.error(line("error", event, fields)),
};

export const silentLogger: Logger = { info: () => {}, error: () => {} };

function line(level: string, event: string, fields?: Record<string, unknown>): string {
  // One line per request goes through here: no copy unless a field needs rewriting.
  const out: Record<string, unknown> = { level, event, ...fields };
  for (const k in fields) {
    const v = fields[k];
    // An Error's message only: never its stack, which JSON.stringify would drop anyway.
    if (v instanceof Error) out[k] = `${v.name}: ${v.message}`;
  }
  return JSON.stringify(out);
}
