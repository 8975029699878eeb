/** Arguments → the upstream request: path, query, JSON body and headers, per the definition. */
import type { HttpDefinition } from "./definition.ts";
import { pathPlaceholders } from "./definition.ts";
import { ToolError } from "../contract.ts";

export interface PlannedRequest {
  url: URL;
  method: string;
  headers: Headers;
  body?: string;
}

type Args = Record<string, unknown>;

/** Joins the tenant's base URL and the templated path; the result never leaves that origin. */
export function buildUrl(baseUrl: string, definition: HttpDefinition, args: Args): URL {
  const base = new URL(baseUrl);
  let path = definition.path;
  for (const name of pathPlaceholders(definition.path)) {
    const value = args[name];
    const text = typeof value === "string" || typeof value === "number" ? String(value) : "";
    // "." and ".." would be normalised away and climb out of the base path.
    if (text === "" || text === "." || text === "..") {
      throw new ToolError(
        `The argument "${name}" can't be empty, "." or ".." (it is part of the path).`,
      );
    }
    path = path.replace(`{${name}}`, encodeURIComponent(text));
  }
  const url = new URL(base.origin + base.pathname.replace(/\/+$/, "") + path);
  for (const name of definition.query) {
    const value = args[name];
    if (value === undefined || value === null) continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      url.searchParams.append(name, typeof item === "object" ? JSON.stringify(item) : String(item));
    }
  }
  if (url.origin !== base.origin) throw new ToolError("The request would leave the tenant's API.");
  return url;
}

export function planRequest(
  baseUrl: string,
  definition: HttpDefinition,
  args: Args,
): PlannedRequest {
  const url = buildUrl(baseUrl, definition, args);
  const headers = new Headers({
    accept: definition.response.type === "text" ? "text/plain, */*" : "application/json, */*",
  });
  for (const [header, name] of Object.entries(definition.headers)) {
    const value = args[name];
    if (value === undefined || value === null) continue;
    const text = typeof value === "object" ? JSON.stringify(value) : String(value);
    if (/[\r\n\0]/.test(text)) {
      throw new ToolError(
        `The argument "${name}" can't contain line breaks (it is sent as a header).`,
      );
    }
    // Header values are bytes; fetch refuses characters beyond Latin-1 with a bare TypeError.
    const outside = /[^\t\x20-\x7e\x80-\xff]/.exec(text);
    if (outside) {
      throw new ToolError(
        `The argument "${name}" is sent as the ${header} header, which can carry only ` +
          `Latin-1 text; it holds "${outside[0]}". Send it without such characters ` +
          "(e.g. percent-encoded) if the API accepts that.",
      );
    }
    headers.set(header, text);
  }
  let body: string | undefined;
  if (definition.body.length > 0) {
    const payload: Args = {};
    for (const name of definition.body) {
      if (args[name] !== undefined) payload[name] = args[name];
    }
    body = JSON.stringify(payload);
    headers.set("content-type", "application/json");
  }
  return { url, method: definition.method, headers, body };
}
