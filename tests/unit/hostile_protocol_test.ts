/**
 * Hostile bodies and requests get a bounded, clear refusal: nesting and value counts are checked
 * before the body is parsed, an id that can't be echoed is refused, a refused preflight is JSON,
 * and a client that leaves mid-body is not logged as our failure.
 */
import { equal, match, ok } from "node:assert/strict";
import {
  exceededJsonLimit,
  JSON_LIMITS,
} from "../../supabase/functions/mcp-tools-server/mcp/protocol/json_bounds.ts";
import { readBody } from "../../supabase/functions/mcp-tools-server/http/body.ts";

/** A body read as the endpoint reads one sent without a Content-Length. */
const readBoundedBody = (request: Request) => readBody(request, null, 1024 * 1024);
import { capturingLogger } from "../support/log_capture.ts";
import { MemoryTenants, unitApp } from "../support/memory_tenants.ts";
import { callTool, post } from "../support/mcp_client.ts";

const tenants = new MemoryTenants();
const tenant = await tenants.add(["echo"]);
const app = unitApp(tenants);

const nestedArgs = (depth: number) =>
  `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x","n":${
    "[".repeat(depth)
  }${"]".repeat(depth)}}}}`;

Deno.test("json bounds: depth and value counts are found without parsing; strings don't count", () => {
  equal(exceededJsonLimit("[".repeat(64) + "]".repeat(64)), null);
  match(exceededJsonLimit("[".repeat(65) + "]".repeat(65))!, /nested deeper than 64 levels/);
  equal(exceededJsonLimit(JSON.stringify({ s: "[".repeat(10_000) + '\\"[' })), null);
  const many = JSON.stringify(Array.from({ length: JSON_LIMITS.values + 1 }, () => 0));
  match(exceededJsonLimit(many)!, /more than 100000 JSON values/);
  equal(exceededJsonLimit(JSON.stringify(Array.from({ length: 1000 }, () => "x"))), null);
});

Deno.test("json bounds: a deeply nested body is refused with a JSON-RPC error naming the limit", async () => {
  for (const depth of [65, 300_000]) {
    const reply = await post(app, nestedArgs(depth), { key: tenant.key });
    equal(reply.status, 400);
    equal(reply.body.error.code, -32600);
    match(reply.body.error.message, /nested deeper than 64 levels/);
  }
  const fine = await post(app, nestedArgs(10), { key: tenant.key });
  equal(fine.status, 200);
  const wide =
    `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x","n":[${
      Array(150_000).fill(1).join(",")
    }]}}}`;
  const refused = await post(app, wide, { key: tenant.key });
  equal(refused.status, 400);
  match(refused.body.error.message, /more than 100000 JSON values/);
});

Deno.test("protocol: an id too large to echo (1e400) is refused, not answered with id null silently", async () => {
  const reply = await post(app, '{"jsonrpc":"2.0","id":1e400,"method":"ping"}', {
    key: tenant.key,
  });
  equal(reply.status, 400);
  match(reply.body.error.message, /"id" is a number too large to echo back/);
  const ok1 = await post(app, '{"jsonrpc":"2.0","id":1e3,"method":"ping"}', { key: tenant.key });
  equal(ok1.body.id, 1000);
});

Deno.test("cors: a refused preflight is a JSON answer with its code", async () => {
  const res = await app.fetch(app.url, {
    method: "OPTIONS",
    headers: { origin: "https://evil.example.com", "access-control-request-method": "POST" },
  });
  equal(res.status, 403);
  equal(res.headers.get("content-type"), "application/json");
  const body = await res.json();
  equal(body.code, "ORIGIN_NOT_ALLOWED");
  match(body.error, /https:\/\/evil\.example\.com/);
});

Deno.test("a client that disconnects mid-body is logged as info, not as a failure", async () => {
  const log = capturingLogger();
  const quiet = unitApp(tenants, { log });
  const leaving = new AbortController();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"jsonrpc":"2.0","id":1,'));
    },
    pull(controller) {
      leaving.abort();
      controller.error(new Error("connection reset by peer"));
    },
  });
  const res = await quiet.fetch(quiet.url, {
    method: "POST",
    headers: {
      authorization: `Bearer ${tenant.key}`,
      "content-type": "application/json",
      accept: "application/json",
    },
    body,
    signal: leaving.signal,
    // @ts-ignore: streaming request bodies need duplex in fetch's types
    duplex: "half",
  }).catch((err) => err);
  if (res instanceof Response) await res.body?.cancel();
  equal(log.named("request_failed").length, 0, JSON.stringify(log.events));
  equal(log.named("client_disconnected").length, 1, JSON.stringify(log.events));
  equal(log.named("client_disconnected")[0].level, "info");
  // A normal call still works on the same app.
  const reply = await post(quiet, callTool("echo", { text: "hi" }), { key: tenant.key });
  ok(!reply.body.result.isError);
});

Deno.test("json bounds: a body is refused while it arrives, never buffered whole", async () => {
  // An endless body of `[`: a reader that buffered it whole before checking would never return.
  // Once refused, the rest is drained (dropped, not kept) up to the body limit only, so that the
  // edge runtime's Deno delivers the answer instead of resetting the connection.
  let pulled = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new TextEncoder().encode("[".repeat(16 * 1024)));
    },
  });
  const read = await readBoundedBody(
    new Request(app.url, { method: "POST", body: endless, duplex: "half" } as RequestInit),
  );
  ok("refused" in read);
  match(read.refused.message, /nested deeper than 64 levels/);
  ok(pulled <= 1024 * 1024 / (16 * 1024) + 2, `read ${pulled} chunks`);
  const fine = await readBoundedBody(new Request(app.url, { method: "POST", body: '{"a":"é"}' }));
  equal("text" in fine && fine.text, '{"a":"é"}');
});
