// An OpenAPI 3.0/3.1 document (already dereferenced) → `http` tool definitions, one per
// operation, each checked with the function's own parseHttpDefinition (the rules the database's
// save trigger applies too). Operations that can't be represented are listed with the reason,
// and so are optional parameters left out and security schemes that can't become config.http.auth.

import {
  ARGUMENT_NAME,
  DefinitionError,
  parseHttpDefinition,
  RESERVED_HEADERS,
  SECRET_NAME,
} from "../../supabase/functions/mcp-tools-server/tools/http/definition.ts";
import { isObject, objectShape, toJsonSchema } from "./openapi_schema.ts";

type Json = Record<string, unknown>;

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;
const SENT = new Set(["get", "head", "post", "put", "patch", "delete"]);
const TOOL_NAME = /^[a-z][a-z0-9_]{1,63}$/;
const MAX_DESCRIPTION = 2000;

export interface ImportOptions {
  /** Put before every tool name, e.g. "gh_". */
  prefix?: string;
  /** Only these operations (operationId or resulting tool name). */
  only?: string[];
}

export interface ImportedTool {
  name: string;
  /** "GET /pets/{petId}" as the document writes it. */
  operation: string;
  operationId?: string;
  description: string;
  definition: Json;
}

export interface Skipped {
  operation: string;
  operationId?: string;
  reason: string;
}

export interface AuthPlan {
  /** What config.http.auth becomes, when a scheme maps. */
  auth?: Json;
  /** The scheme that was mapped, and the secret the admin must set. */
  scheme?: string;
  secret?: string;
  /** Schemes that can't be expressed in config.http.auth, with the reason. */
  unmapped: { scheme: string; reason: string }[];
}

export interface ImportPlan {
  title: string;
  version: string;
  openapi: string;
  /** The document's first absolute server URL (variables filled with their defaults). */
  baseUrl?: string;
  tools: ImportedTool[];
  skipped: Skipped[];
  /** Optional parameters and bodies left out of a tool, and why. */
  notes: string[];
  auth: AuthPlan;
}

class Unrepresentable extends Error {}

export function planImport(doc: Json, options: ImportOptions = {}): ImportPlan {
  const openapi = String(doc.openapi ?? doc.swagger ?? "");
  if (!/^3\.[01]\./.test(openapi)) {
    throw new Error(
      `This is not an OpenAPI 3.0 or 3.1 document (openapi: "${openapi || "missing"}").`,
    );
  }
  const prefix = options.prefix ?? "";
  if (prefix && !/^[a-z][a-z0-9_]{0,30}$/.test(prefix)) {
    throw new Error(`--prefix "${prefix}" must be lowercase letters, digits and _, from a letter.`);
  }
  const info = isObject(doc.info) ? doc.info : {};
  const plan: ImportPlan = {
    title: String(info.title ?? "API"),
    version: String(info.version ?? ""),
    openapi,
    baseUrl: serverUrl(doc.servers),
    tools: [],
    skipped: [],
    notes: [],
    auth: planAuth(doc),
  };
  const only = options.only ? new Set(options.only) : undefined;
  const taken = new Set<string>();
  const paths = isObject(doc.paths) ? doc.paths : {};
  for (const [path, item] of Object.entries(paths)) {
    if (!isObject(item)) continue;
    for (const method of METHODS) {
      const op = item[method];
      if (!isObject(op)) continue;
      const operation = `${method.toUpperCase()} ${path}`;
      const operationId = typeof op.operationId === "string" ? op.operationId : undefined;
      const name = uniqueName(prefix + toolBaseName(operationId ?? `${method}_${path}`), taken);
      if (only && !(operationId && only.has(operationId)) && !only.has(name)) {
        taken.delete(name);
        continue;
      }
      try {
        if (!SENT.has(method)) {
          throw new Unrepresentable(
            `${method.toUpperCase()} is not sent by http tools (GET, HEAD, POST, PUT, PATCH, DELETE only)`,
          );
        }
        const notes: string[] = [];
        const definition = operationDefinition(method, path, item, op, notes);
        parseHttpDefinition(name, definition);
        plan.tools.push({
          name,
          operation,
          operationId,
          description: describe(op, operation),
          definition,
        });
        for (const note of notes) plan.notes.push(`${name} (${operation}): ${note}`);
      } catch (err) {
        taken.delete(name);
        if (!(err instanceof Unrepresentable || err instanceof DefinitionError)) throw err;
        const reason = err instanceof DefinitionError ? err.problems.join("; ") : err.message;
        plan.skipped.push({ operation, operationId, reason });
      }
    }
  }
  if (only) {
    const found = new Set(plan.tools.flatMap((t) => [t.name, t.operationId]));
    for (const want of only) {
      if (!found.has(want) && !plan.skipped.some((s) => s.operationId === want)) {
        plan.skipped.push({
          operation: want,
          reason: "no operation with this operationId or name",
        });
      }
    }
  }
  return plan;
}

/** camelCase, kebab-case and slashes → snake_case; lowercase letters, digits and _ only. */
export function toolBaseName(raw: string): string {
  const snake = raw
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
  return /^[a-z]/.test(snake) ? snake : `op_${snake}`;
}

function uniqueName(base: string, taken: Set<string>): string {
  let name = base.slice(0, 64).replace(/_+$/, "");
  for (let n = 2; taken.has(name) || !TOOL_NAME.test(name); n++) {
    const suffix = `_${n}`;
    name = `${base.slice(0, 64 - suffix.length).replace(/_+$/, "")}${suffix}`;
    if (n > 1000) throw new Error(`No free tool name for ${base}`);
  }
  taken.add(name);
  return name;
}

function describe(op: Json, operation: string): string {
  const parts = [op.summary, op.description]
    .filter((text): text is string => typeof text === "string" && text.trim() !== "")
    .map((text) => text.trim());
  if (parts.length === 2 && parts[1].startsWith(parts[0])) parts.shift();
  const text = parts.join("\n\n") || operation;
  return text.length > MAX_DESCRIPTION ? `${text.slice(0, MAX_DESCRIPTION - 1)}…` : text;
}

function serverUrl(servers: unknown): string | undefined {
  if (!Array.isArray(servers)) return undefined;
  for (const server of servers) {
    if (!isObject(server) || typeof server.url !== "string") continue;
    const variables = isObject(server.variables) ? server.variables : {};
    const url = server.url.replace(/\{([^}]+)\}/g, (whole, name) => {
      const variable = variables[name];
      return isObject(variable) && variable.default !== undefined
        ? String(variable.default)
        : whole;
    });
    if (/^https?:\/\/[^{}\s]+$/.test(url)) return url.replace(/\/+$/, "");
  }
  return undefined;
}

function operationDefinition(
  method: string,
  path: string,
  item: Json,
  op: Json,
  notes: string[],
): Json {
  const properties: Record<string, Json> = {};
  const required: string[] = [];
  const query: string[] = [];
  const body: string[] = [];
  const headers: Record<string, string> = {};
  let template = path;
  const add = (name: string, schema: Json, isRequired: boolean, where: string) => {
    if (name in properties) {
      throw new Unrepresentable(`argument "${name}" would be both ${where} and another part`);
    }
    properties[name] = schema;
    if (isRequired) required.push(name);
  };

  for (const param of parameters(item, op)) {
    const wire = String(param.name);
    const place = String(param.in);
    const isRequired = param.required === true || place === "path";
    const skip = (reason: string) => {
      if (isRequired) throw new Unrepresentable(`required ${place} parameter "${wire}": ${reason}`);
      notes.push(`optional ${place} parameter "${wire}" left out: ${reason}`);
    };
    const schema = paramSchema(param);
    if (!schema) {
      skip("its value is described by media type (content), not a schema");
      continue;
    }
    const type = schema.type;
    const scalar = type === undefined || ["string", "integer", "number", "boolean"].includes(
      String(Array.isArray(type) ? type.find((t) => t !== "null") : type),
    );
    if (place === "path") {
      if (!scalar || type === "boolean") skip("a path parameter must be a string or number");
      const name = argumentName(wire);
      template = template.replaceAll(`{${wire}}`, `{${name}}`);
      add(name, schema, true, "path");
    } else if (place === "query") {
      if (!ARGUMENT_NAME.test(wire)) {
        skip("its name can't be an argument name (letters, digits, _)");
        continue;
      }
      const isArray = type === "array";
      if (!scalar && !isArray) {
        skip("object-valued query parameters (deepObject, form) are not sent");
        continue;
      }
      if (isArray && (param.explode === false || (param.style && param.style !== "form"))) {
        skip("only repeated (name=a&name=b) array parameters are sent");
        continue;
      }
      add(wire, schema, isRequired, "query");
      query.push(wire);
    } else if (place === "header") {
      if (RESERVED_HEADERS.has(wire.toLowerCase())) {
        skip("this header is set by the server or the tenant's credentials");
        continue;
      }
      const name = argumentName(wire);
      add(name, schema, isRequired, "header");
      headers[wire] = name;
    } else {
      skip(`${place} parameters can't be sent by http tools`);
    }
  }

  if (isObject(op.requestBody)) {
    const bodyRequired = op.requestBody.required === true;
    const content = isObject(op.requestBody.content) ? op.requestBody.content : {};
    const jsonType = Object.keys(content).find((t) => /^application\/([\w.+-]*\+)?json\b/i.test(t));
    const skipBody = (reason: string) => {
      if (bodyRequired) throw new Unrepresentable(`request body: ${reason}`);
      notes.push(`optional request body left out: ${reason}`);
    };
    if (method === "get" || method === "head") {
      skipBody(`a ${method.toUpperCase()} request can't carry a body`);
    } else if (!jsonType) {
      skipBody(
        `${Object.keys(content).join(", ") || "no media type"} (only JSON bodies are sent)`,
      );
    } else {
      const media = content[jsonType];
      const schema = toJsonSchema(isObject(media) ? media.schema : undefined, {
        dropReadOnly: true,
      });
      const shape = objectShape(schema);
      if (!shape) {
        skipBody("the JSON body is not one object of named fields (an array, a union, …)");
      } else {
        const clash = Object.keys(shape.properties).map((name) =>
          !ARGUMENT_NAME.test(name)
            ? `body field "${name}" can't be an argument name (letters, digits, _)`
            : name in properties
            ? `body field "${name}" has the same name as a parameter`
            : undefined
        ).find((problem) => problem !== undefined);
        if (clash) {
          skipBody(clash);
        } else {
          for (const [name, sub] of Object.entries(shape.properties)) {
            add(name, sub, bodyRequired && shape.required.includes(name), "body");
            body.push(name);
          }
        }
      }
    }
  }

  const definition: Json = {
    method: method.toUpperCase(),
    path: template,
    input_schema: {
      type: "object",
      properties,
      ...(required.length ? { required } : {}),
    },
  };
  if (typeof op.summary === "string" && op.summary.trim()) {
    definition.title = op.summary.trim().slice(0, 200);
  }
  if (query.length) definition.query = query;
  if (body.length) definition.body = body;
  if (Object.keys(headers).length) definition.headers = headers;
  // A HEAD answer is its status and headers whatever the document says its body would be.
  definition.response = { type: method === "head" ? "auto" : responseType(op.responses) };
  if (method === "get" || method === "head") definition.annotations = { readOnlyHint: true };
  if (method === "delete") definition.annotations = { destructiveHint: true, idempotentHint: true };
  if (method === "put") definition.annotations = { idempotentHint: true };
  return definition;
}

/** Path-level parameters, overridden by the operation's own (same name and place). */
function parameters(item: Json, op: Json): Json[] {
  const byKey = new Map<string, Json>();
  for (const list of [item.parameters, op.parameters]) {
    if (!Array.isArray(list)) continue;
    for (const param of list) {
      if (isObject(param) && typeof param.name === "string") {
        byKey.set(`${param.in}:${param.name}`, param);
      }
    }
  }
  return [...byKey.values()];
}

function paramSchema(param: Json): Json | null {
  if (!isObject(param.schema)) return null;
  const schema = toJsonSchema(param.schema);
  if (typeof param.description === "string" && !schema.description) {
    schema.description = param.description.slice(0, 1000);
  }
  return schema;
}

/** A wire name (user-id, X-Request-Id) as an argument name (user_id, x_request_id). */
function argumentName(wire: string): string {
  if (ARGUMENT_NAME.test(wire)) return wire;
  const name = wire.replace(/[^A-Za-z0-9_]+/g, "_").replace(/^([0-9])/, "_$1").slice(0, 64);
  if (!ARGUMENT_NAME.test(name)) throw new Unrepresentable(`"${wire}" can't be an argument name`);
  return name;
}

function responseType(responses: unknown): "json" | "text" | "auto" {
  if (!isObject(responses)) return "auto";
  const success = Object.entries(responses)
    .filter(([code]) => /^2/.test(code) || code === "default")
    .map(([, response]) => response);
  const types = success.flatMap((r) =>
    isObject(r) && isObject(r.content) ? Object.keys(r.content) : []
  );
  if (types.length === 0) return "auto";
  if (types.every((t) => /json/i.test(t))) return "json";
  if (types.every((t) => /^text\//i.test(t))) return "text";
  return "auto";
}

/**
 * The first security scheme (in the order the document asks for them) that config.http.auth can
 * express: HTTP bearer, an API key in a header, OAuth 2 / OpenID Connect (as a bearer token the
 * admin obtains). The others are reported.
 */
function planAuth(doc: Json): AuthPlan {
  const components = isObject(doc.components) ? doc.components : {};
  const schemes = isObject(components.securitySchemes) ? components.securitySchemes : {};
  const order: string[] = [];
  const requirements = [doc.security];
  for (const item of Object.values(isObject(doc.paths) ? doc.paths : {})) {
    if (!isObject(item)) continue;
    for (const method of METHODS) {
      const op = item[method];
      if (isObject(op)) requirements.push(op.security);
    }
  }
  for (const list of requirements) {
    if (!Array.isArray(list)) continue;
    for (const requirement of list) {
      if (!isObject(requirement)) continue;
      for (const name of Object.keys(requirement)) if (!order.includes(name)) order.push(name);
    }
  }
  for (const name of Object.keys(schemes)) if (!order.includes(name)) order.push(name);

  const plan: AuthPlan = { unmapped: [] };
  for (const name of order) {
    const scheme = schemes[name];
    if (!isObject(scheme)) continue;
    const mapped = mapScheme(scheme, secretName(name));
    if (typeof mapped === "string") {
      plan.unmapped.push({ scheme: name, reason: mapped });
    } else if (plan.auth) {
      plan.unmapped.push({
        scheme: name,
        reason:
          `a tenant has one auth; ${plan.scheme} was used (set config.http.auth by hand to change it)`,
      });
    } else {
      plan.auth = mapped;
      plan.scheme = name;
      plan.secret = mapped.secret as string;
    }
  }
  return plan;
}

function mapScheme(scheme: Json, secret: string): Json | string {
  const type = String(scheme.type);
  if (type === "http" && String(scheme.scheme).toLowerCase() === "bearer") {
    return { type: "bearer", secret };
  }
  if (type === "http" && String(scheme.scheme).toLowerCase() === "basic") {
    return "HTTP basic needs a username: set config.http.auth " +
      `{"type":"basic","username":"…","secret":"${secret}"} by hand`;
  }
  if (type === "apiKey" && scheme.in === "header") {
    const header = String(scheme.name);
    if (RESERVED_HEADERS.has(header.toLowerCase()) && header.toLowerCase() !== "authorization") {
      return `the API key goes in the reserved header ${header}`;
    }
    return header.toLowerCase() === "authorization"
      ? { type: "header", header: "Authorization", secret }
      : { type: "header", header, secret };
  }
  if (type === "apiKey") {
    return `an API key in the ${scheme.in} can't be sent (only headers carry credentials)`;
  }
  if (type === "oauth2" || type === "openIdConnect") {
    return { type: "bearer", secret };
  }
  return `${type} security is not supported`;
}

/** A scheme name (api_key, BearerAuth, X-API-Key) as a tenant secret name. */
function secretName(scheme: string): string {
  const name = scheme.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase()
    .replace(/[^a-z0-9]+/g, "_").replace(/^[^a-z]+|_+$/g, "").slice(0, 63);
  return SECRET_NAME.test(name) ? name : "api_token";
}
