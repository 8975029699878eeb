/**
 * Tool arguments mirrored into `Mcp-Param-{Name}` headers (the `x-mcp-header` schema extension):
 * found once per tool from its input schema, checked against the body on every 2026-07-28 call.
 */
import { decodeHeaderValue, headerMismatch } from "./headers.ts";
import { isObject } from "./jsonrpc.ts";

export interface MirroredParam {
  /** The chain of `properties` keys leading to the argument. */
  path: readonly string[];
  /** Lowercase header name, `mcp-param-<name>`. */
  header: string;
}

/** Annotated properties reachable from the root through `properties` alone, as the spec allows. */
export function mirroredParams(schema: unknown, path: string[] = []): MirroredParam[] {
  if (!isObject(schema) || !isObject(schema.properties)) return [];
  const found: MirroredParam[] = [];
  for (const [key, property] of Object.entries(schema.properties)) {
    if (!isObject(property)) continue;
    const name = property["x-mcp-header"];
    if (typeof name === "string") {
      found.push({ path: [...path, key], header: `mcp-param-${name.toLowerCase()}` });
    }
    found.push(...mirroredParams(property, [...path, key]));
  }
  return found;
}

function valueAt(args: unknown, path: readonly string[]): unknown {
  let value = args;
  for (const key of path) value = isObject(value) ? value[key] : undefined;
  return value;
}

function matches(header: string, value: unknown): boolean {
  if (typeof value === "string") return header === value;
  if (typeof value === "boolean") return header === String(value);
  if (typeof value === "number") return header.trim() !== "" && Number(header) === value;
  return false;
}

/** Each mirrored argument present in the body needs its header, equal after decoding; and back. */
export function checkMirroredParams(
  headers: Headers,
  args: unknown,
  params: readonly MirroredParam[],
): void {
  for (const { path, header } of params) {
    const value = valueAt(args, path);
    const raw = headers.get(header);
    const present = value !== undefined && value !== null;
    if (raw === null) {
      if (present) {
        throw headerMismatch(`the ${header} header is required: ${path.join(".")} is set.`);
      }
      continue;
    }
    if (!present) {
      throw headerMismatch(`${header} is sent but ${path.join(".")} is not in the arguments.`);
    }
    const decoded = decodeHeaderValue(raw);
    if (decoded === null) throw headerMismatch(`the ${header} header holds invalid base64.`);
    if (!matches(decoded, value)) {
      throw headerMismatch(`${header} header value does not match argument ${path.join(".")}.`);
    }
  }
}
