/**
 * The two ways into the MCP endpoint: a plain POST (no Origin: what agents send) skips the router,
 * a browser's goes through it for CORS. Both must answer the same, and the body limit must hold
 * whether the size is declared (Content-Length) or only found while reading (a streamed body).
 */
import { deepStrictEqual, equal } from "node:assert/strict";
import { MemoryTenants, unitApp } from "../support/memory_tenants.ts";

const tenants = new MemoryTenants();

const call = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "tools/call",
  params: { name: "echo", arguments: { text: "hi" } },
});

function streamed(text: string, chunk = 1000): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at += chunk));
    },
  });
}

Deno.test("a plain POST and a browser's POST get the same answer; only the browser's has CORS", async () => {
  const app = unitApp(tenants);
  const t = await tenants.add(["echo"]);
  const headers = { authorization: `Bearer ${t.key}`, "content-type": "application/json" };
  const plain = await app.fetch(app.url, { method: "POST", headers, body: call });
  const browser = await app.fetch(app.url, {
    method: "POST",
    headers: { ...headers, origin: "http://localhost:6274" },
    body: call,
  });
  equal(plain.status, 200);
  equal(browser.status, 200);
  deepStrictEqual(await plain.json(), await browser.json());
  equal(plain.headers.get("access-control-allow-origin"), null);
  equal(browser.headers.get("access-control-allow-origin"), "http://localhost:6274");
});

Deno.test("plain POSTs fail like routed ones: JSON errors with a code, auth before anything", async () => {
  const app = unitApp(tenants);
  const noKey = await app.fetch(app.url, { method: "POST", body: call });
  equal(noKey.status, 401);
  equal((await noKey.json()).code, "MISSING_API_KEY");
  const slash = await app.fetch(`${app.url}/`, { method: "POST", body: call });
  equal(slash.status, 401, "a trailing slash reaches the same endpoint through the router");
});

Deno.test("body limit: declared sizes are refused before auth, streamed bodies while reading", async () => {
  const app = unitApp(tenants, { config: { maxBodyBytes: 4096 } });
  const t = await tenants.add(["echo"]);
  const auth = { authorization: `Bearer ${t.key}`, "content-type": "application/json" };
  const big = JSON.stringify({ ...JSON.parse(call), padding: "x".repeat(10_000) });

  // As every HTTP/1.1 client sends it with a known body (in-process Requests don't add it).
  const length = { "content-length": String(big.length) };
  const declared = await app.fetch(app.url, { method: "POST", headers: length, body: big });
  equal(declared.status, 413, "no key needed to learn the body is too large");
  equal((await declared.json()).code, "PAYLOAD_TOO_LARGE");

  const stream = await app.fetch(app.url, { method: "POST", headers: auth, body: streamed(big) });
  equal(stream.status, 413);
  equal((await stream.json()).code, "PAYLOAD_TOO_LARGE");

  const small = await app.fetch(app.url, {
    method: "POST",
    headers: auth,
    body: streamed(call, 7),
  });
  equal(small.status, 200);
  equal((await small.json()).result.content[0].text, "hi");
});
