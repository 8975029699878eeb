/**
 * The upstream's answer → a tool result. 2xx: JSON as structuredContent plus its text, or plain
 * text; 4xx/5xx: an `isError` result with the status and a trimmed body. Every string that
 * leaves passes through `redact`, so a credential an upstream echoes back never reaches the
 * caller.
 */
import type { UpstreamResponse } from "../../upstream/guarded_fetch.ts";
import type { ToolResult } from "../contract.ts";
import type { HttpDefinition } from "./definition.ts";

/** How much of an error body the caller sees. */
export const ERROR_BODY_CHARS = 1_000;
export const REDACTED = "[redacted]";

export type Redact = (text: string) => string;

/** Replaces every occurrence of the given values (longest first). */
export function redactor(values: Iterable<string>): Redact {
  const secrets = [...new Set(values)].filter((v) => v.length > 0).sort((a, b) =>
    b.length - a.length
  );
  if (secrets.length === 0) return (text) => text;
  return (text) => secrets.reduce((out, secret) => out.replaceAll(secret, REDACTED), text);
}

export function trimText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  return `${text.slice(0, maxChars)}\n… [truncated: ${text.length - maxChars} more characters]`;
}

/** Deeper JSON is returned as text: walking it would exhaust the stack. */
export const MAX_JSON_DEPTH = 64;

class TooDeep extends Error {}

/** `value` with every string in it redacted; undefined when it is too deep to walk. */
export function redactedJson(value: unknown, redact: Redact): unknown {
  try {
    return redactValue(value, redact);
  } catch (err) {
    if (err instanceof TooDeep || err instanceof RangeError) return undefined;
    throw err;
  }
}

function redactValue(value: unknown, redact: Redact, depth = 0): unknown {
  if (typeof value === "string") return redact(value);
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_JSON_DEPTH) throw new TooDeep();
  if (Array.isArray(value)) return value.map((v) => redactValue(v, redact, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [redact(k), redactValue(v, redact, depth + 1)]),
  );
}

function isJsonType(contentType: string): boolean {
  return /^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType);
}

/**
 * The headers a HEAD answer is asked for (what the resource is, how big, which version, where),
 * in this order; others (cookies, rate limits, vendor headers) are not passed on.
 */
export const HEAD_HEADERS = [
  "content-type",
  "content-length",
  "etag",
  "last-modified",
  "cache-control",
  "expires",
  "content-encoding",
  "content-language",
  "content-disposition",
  "accept-ranges",
  "location",
] as const;

/** How much of one header value the caller sees. */
const HEADER_VALUE_CHARS = 1_000;

/**
 * A HEAD answer has no body: the result is its status and HEAD_HEADERS, as text and as
 * `structuredContent` ({ status, headers }). 2xx and 304 (not modified) are answers; any other
 * status is an `isError` result, as for the other methods.
 */
function headResult(response: UpstreamResponse, redact: Redact): ToolResult {
  const headers: Record<string, string> = {};
  for (const name of HEAD_HEADERS) {
    const value = response.headers.get(name);
    if (value !== null) headers[name] = trimText(redact(value), HEADER_VALUE_CHARS);
  }
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  const answered = (response.status >= 200 && response.status < 300) || response.status === 304;
  return {
    content: [{
      type: "text",
      text: `The upstream API answered HTTP ${response.status}${
        statusText(response.status)
      } to HEAD${
        lines.length ? `:\n${lines.join("\n")}` : ", with no headers describing the resource."
      }`,
    }],
    structuredContent: { status: response.status, headers },
    ...(answered ? {} : { isError: true }),
  };
}

export function toToolResult(
  response: UpstreamResponse,
  definition: HttpDefinition,
  redact: Redact,
): ToolResult {
  if (definition.method === "HEAD") return headResult(response, redact);
  const text = new TextDecoder().decode(response.body);
  const status = `${response.status}${statusText(response.status)}`;
  if (response.status < 200 || response.status >= 300) {
    const body = trimText(redact(text.trim()), ERROR_BODY_CHARS);
    return {
      content: [{
        type: "text",
        text: `The upstream API answered HTTP ${status}${
          body ? `: ${body}` : " with an empty body"
        }`,
      }],
      isError: true,
    };
  }
  if (text.trim() === "") {
    return {
      content: [{ type: "text", text: `The upstream API answered HTTP ${status}, no content.` }],
    };
  }
  const { type, max_chars } = definition.response;
  const contentType = response.headers.get("content-type") ?? "";
  if (type === "json" || (type === "auto" && isJsonType(contentType))) {
    let value: unknown;
    let clean: unknown;
    try {
      value = JSON.parse(text);
      clean = redactValue(value, redact);
    } catch (err) {
      if (err instanceof TooDeep || err instanceof RangeError) {
        return {
          content: [{
            type: "text",
            text: `The upstream API answered HTTP ${status} with JSON nested deeper than ` +
              `${MAX_JSON_DEPTH} levels; as text: ${trimText(redact(text), max_chars)}`,
          }],
        };
      }
      return {
        content: [{
          type: "text",
          text: `The upstream API answered HTTP ${status} with a body that is not JSON: ${
            trimText(redact(text), ERROR_BODY_CHARS)
          }`,
        }],
        isError: true,
      };
    }
    const structured = clean && typeof clean === "object" && !Array.isArray(clean)
      ? clean as Record<string, unknown>
      : { result: clean };
    return {
      content: [{ type: "text", text: trimText(JSON.stringify(clean), max_chars) }],
      structuredContent: structured,
    };
  }
  return { content: [{ type: "text", text: trimText(redact(text), max_chars) }] };
}

const REASONS: Record<number, string> = {
  304: "Not Modified",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

function statusText(status: number): string {
  return REASONS[status] ? ` ${REASONS[status]}` : "";
}
