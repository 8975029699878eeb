/**
 * Plain checks of what an RPC returned, for the lookups on the first request's path (no schema
 * library to import at start-up). A mismatch names where and what was expected; the caller wraps
 * it as "<rpc> returned an unexpected shape", a bug (schema drift), never a client's mistake.
 */
export class ShapeError extends Error {
  constructor(path: string, expected: string, value: unknown) {
    super(`${path || "the answer"}: expected ${expected}, got ${describe(value)}`);
    this.name = "ShapeError";
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}

export function object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ShapeError(path, "an object", value);
  }
  return value as Record<string, unknown>;
}

export function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new ShapeError(path, "an array", value);
  return value;
}

export function string(value: unknown, path: string): string {
  if (typeof value !== "string") throw new ShapeError(path, "a string", value);
  return value;
}

export function nullableString(value: unknown, path: string): string | null {
  return value === null ? null : string(value, path);
}

export function boolean(value: unknown, path: string): boolean {
  if (typeof value !== "boolean") throw new ShapeError(path, "a boolean", value);
  return value;
}

export function integer(value: unknown, path: string): number {
  if (!Number.isInteger(value)) throw new ShapeError(path, "an integer", value);
  return value as number;
}

export function strings(value: unknown, path: string): string[] {
  return array(value, path).map((item, i) => string(item, `${path}[${i}]`));
}

/** An ISO timestamp as epoch ms, or null. */
export function timestamp(value: unknown, path: string): number | null {
  if (value === null) return null;
  const ms = Date.parse(string(value, path));
  if (Number.isNaN(ms)) throw new ShapeError(path, "a timestamp", value);
  return ms;
}

/** Runs `parse`, turning a mismatch into the error every store reports for a wrong answer. */
export function parsed<T>(rpc: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof ShapeError)) throw err;
    throw new Error(`${rpc} returned an unexpected shape: ${err.message}`);
  }
}
