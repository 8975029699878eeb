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

function line(level: string, event: string, fields: Record<string, unknown> = {}): string {
  const out: Record<string, unknown> = { level, event };
  for (const [k, v] of Object.entries(fields)) {
    out[k] = v instanceof Error ? `${v.name}: ${v.message}` : v;
  }
  return JSON.stringify(out);
}
