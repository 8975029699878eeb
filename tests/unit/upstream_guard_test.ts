/** The address policy and the guarded upstream fetch, against a real local HTTP server. */
import { deepStrictEqual, equal, match, ok, rejects, throws } from "node:assert/strict";
import {
  AllowList,
  forbiddenAddressReason,
  forbiddenNameReason,
} from "../../supabase/functions/mcp-tools-server/upstream/address_policy.ts";
import {
  createGuardedFetch,
  type Resolver,
  UpstreamError,
  type UpstreamRequest,
} from "../../supabase/functions/mcp-tools-server/upstream/guarded_fetch.ts";
import { startFakeApi } from "../support/fake_api.ts";

Deno.test("address policy: non-public IPv4 and IPv6 forms are refused, public ones pass", () => {
  const refused = [
    "127.0.0.1",
    "127.255.0.9",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "255.255.255.255",
    "224.0.0.1",
    "198.18.0.1",
    "::",
    "::1",
    "[::1]",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "0:0:0:0:0:ffff:a9fe:a9fe", // mapped 169.254.169.254
    "::127.0.0.1",
    "64:ff9b::10.0.0.1",
    "2002:7f00:1::", // 6to4 of 127.0.0.1
    "fc00::1",
    "fd00:ec2::254", // AWS metadata over IPv6
    "fe80::1",
    "fe80::1%eth0",
    "ff02::1",
    "2001:db8::1",
    "2001::1", // Teredo
    "::ffff:0:127.0.0.1", // IPv4-translated (SIIT)
    "::ffff:0:a9fe:a9fe", // translated 169.254.169.254
    "0:0:0:0:ffff:0:10.0.0.1",
  ];
  for (const ip of refused) ok(forbiddenAddressReason(ip), `${ip} must be refused`);
  const allowed = [
    "8.8.8.8",
    "1.1.1.1",
    "172.32.0.1",
    "100.128.0.1",
    "2606:4700::1111",
    "::ffff:8.8.8.8",
    "::ffff:0:8.8.8.8",
  ];
  for (const ip of allowed) equal(forbiddenAddressReason(ip), null, `${ip} must pass`);
  match(forbiddenAddressReason("169.254.169.254")!, /metadata/);
  match(forbiddenAddressReason("::ffff:10.0.0.1")!, /IPv4-mapped form of a private/);
  ok(forbiddenAddressReason("not-an-ip"));
});

Deno.test("address policy: internal-only names are refused before any lookup", () => {
  for (
    const name of [
      "metadata.google.internal",
      "db.local",
      "x.localhost",
      "nas.home.arpa",
      "intranet",
    ]
  ) {
    ok(forbiddenNameReason(name), `${name} must be refused`);
  }
  equal(forbiddenNameReason("api.example.com"), null);
  equal(forbiddenNameReason("localhost"), null, "localhost is judged by what it resolves to");
});

Deno.test("allow-list: host:port entries, IPv6 in brackets, any port with *", () => {
  const allow = AllowList.parse("127.0.0.1:8787, [::1]:9000,api.dev.test:*");
  ok(allow.allows("127.0.0.1", 8787));
  ok(!allow.allows("127.0.0.1", 8788));
  ok(allow.allows("[0:0:0:0:0:0:0:1]", 9000));
  ok(allow.allows("API.dev.test", 443));
  throws(() => AllowList.parse("127.0.0.1"), /must be host:port/);
});

const get = (url: string, extra: Partial<UpstreamRequest> = {}): UpstreamRequest => ({
  url: new URL(url),
  method: "GET",
  headers: new Headers(),
  ...extra,
});

function guard(
  options: { allow?: string[]; resolve?: Resolver; timeoutMs?: number; max?: number },
) {
  return createGuardedFetch({
    allow: new AllowList(options.allow ?? []),
    timeoutMs: options.timeoutMs ?? 5_000,
    maxResponseBytes: options.max ?? 100_000,
    maxRedirects: 3,
    resolve: options.resolve,
  });
}

async function refusedWith(promise: Promise<unknown>, kind: string, pattern: RegExp) {
  await rejects(promise, (err) => {
    ok(err instanceof UpstreamError, `expected an UpstreamError, got ${err}`);
    equal(err.kind, kind);
    match(err.message, pattern);
    return true;
  });
}

Deno.test("guarded fetch: an allowed host is called; its status, headers and body come back", async () => {
  const api = startFakeApi();
  try {
    const fetchUp = guard({ allow: [api.hostPort] });
    const res = await fetchUp(get(`${api.url}/anything?q=1`));
    equal(res.status, 200);
    equal(JSON.parse(new TextDecoder().decode(res.body)).path, "/anything");
  } finally {
    await api.close();
  }
});

Deno.test("guarded fetch: loopback, private and metadata addresses are refused without the allow-list", async () => {
  const api = startFakeApi();
  try {
    const fetchUp = guard({});
    await refusedWith(fetchUp(get(`${api.url}/x`)), "FORBIDDEN_DESTINATION", /loopback/);
    await refusedWith(
      fetchUp(get(`http://169.254.169.254/latest/meta-data/`)),
      "FORBIDDEN_DESTINATION",
      /link-local/,
    );
    await refusedWith(fetchUp(get(`http://10.0.0.8/`)), "FORBIDDEN_DESTINATION", /private/);
    await refusedWith(
      fetchUp(get(`http://[::ffff:127.0.0.1]:${api.port}/`)),
      "FORBIDDEN_DESTINATION",
      /IPv4-mapped/,
    );
    await refusedWith(
      fetchUp(get(`http://2130706433:${api.port}/`)),
      "FORBIDDEN_DESTINATION",
      /loopback/,
    );
    await refusedWith(
      fetchUp(get(`http://metadata.google.internal/`)),
      "FORBIDDEN_DESTINATION",
      /internal/,
    );
    await refusedWith(
      fetchUp(get(`file:///etc/passwd`)),
      "FORBIDDEN_DESTINATION",
      /Only http and https/,
    );
    await refusedWith(
      fetchUp(get(`http://user:pw@8.8.8.8/`)),
      "FORBIDDEN_DESTINATION",
      /credentials/,
    );
    // Allowing one port does not allow the host's other ports.
    await refusedWith(
      guard({ allow: [`127.0.0.1:${api.port + 1}`] })(get(`${api.url}/x`)),
      "FORBIDDEN_DESTINATION",
      /loopback/,
    );
    equal(api.seen.length, 0, "nothing reached the server");
  } finally {
    await api.close();
  }
});

Deno.test("guarded fetch: names resolving to loopback are refused (system resolver and an injected one)", async () => {
  const api = startFakeApi();
  try {
    // localhost goes through getaddrinfo, the resolver fetch itself uses.
    await refusedWith(
      guard({})(get(`http://localhost:${api.port}/x`)),
      "FORBIDDEN_DESTINATION",
      /localhost resolves to 127\.0\.0\.1, a loopback address/,
    );
    // A public-looking name whose DNS answer points inside: refused if any answer is.
    const rebinding: Resolver = (host) =>
      Promise.resolve(host === "api.tenant.example" ? ["93.184.216.34", "127.0.0.1"] : []);
    await refusedWith(
      guard({ resolve: rebinding })(get(`http://api.tenant.example:${api.port}/x`)),
      "FORBIDDEN_DESTINATION",
      /api\.tenant\.example resolves to 127\.0\.0\.1/,
    );
    await refusedWith(
      guard({ resolve: () => Promise.reject(new Error("ENOTFOUND")) })(
        get(`https://nowhere.example/`),
      ),
      "DNS_FAILED",
      /could not be resolved/,
    );
    equal(api.seen.length, 0);
  } finally {
    await api.close();
  }
});

Deno.test("guarded fetch: plain HTTP connects to the address that was checked, not a second lookup", async () => {
  const api = startFakeApi();
  try {
    // fetch could not resolve this name itself: the call succeeds only through the pinned address.
    const fetchUp = guard({
      allow: [api.hostPort],
      resolve: (host) => Promise.resolve(host === "api.pinned.example" ? ["127.0.0.1"] : []),
    });
    const res = await fetchUp(get(`http://api.pinned.example:${api.port}/pinned`));
    equal(res.status, 200);
    equal(api.seen[0].headers.host, `api.pinned.example:${api.port}`);
  } finally {
    await api.close();
  }
});

Deno.test("guarded fetch: every redirect hop is checked; credentials don't follow to another origin", async () => {
  const api = startFakeApi();
  const other = startFakeApi("other");
  try {
    const fetchUp = guard({ allow: [api.hostPort, other.hostPort] });
    const to = (target: string, status = 302) =>
      `${api.url}/redirect?status=${status}&to=${encodeURIComponent(target)}`;
    // To the metadata service, and to a loopback port that is not allowed.
    await refusedWith(
      fetchUp(get(to(`http://169.254.169.254/latest/`))),
      "FORBIDDEN_DESTINATION",
      /link-local/,
    );
    await refusedWith(
      fetchUp(get(to(`http://127.0.0.1:${api.port + 1}/`))),
      "FORBIDDEN_DESTINATION",
      /loopback/,
    );
    await refusedWith(
      fetchUp(get(to(`http://localhost:${api.port + 1}/`))),
      "FORBIDDEN_DESTINATION",
      /localhost resolves to 127\.0\.0\.1/,
    );

    const secretHeaders = new Headers({
      authorization: "Bearer s3cret-token",
      "x-client-id": "c1",
    });
    const res = await fetchUp(
      get(to(`${other.url}/landed`, 307), {
        headers: secretHeaders,
        credentialHeaders: ["authorization"],
      }),
    );
    equal(res.status, 200);
    equal(res.url, `${other.url}/landed`);
    const landed = other.seen.at(-1)!;
    equal(landed.headers.authorization, undefined, "the credential stayed behind");
    equal(landed.headers["x-client-id"], "c1");
    equal(api.seen.at(-1)!.headers.authorization, "Bearer s3cret-token");

    // A same-origin redirect keeps them; a loop ends at the hop limit.
    await fetchUp(
      get(to("/same"), { headers: secretHeaders, credentialHeaders: ["authorization"] }),
    );
    equal(api.seen.at(-1)!.path, "/same");
    equal(api.seen.at(-1)!.headers.authorization, "Bearer s3cret-token");
    await refusedWith(fetchUp(get(`${api.url}/loop`)), "TOO_MANY_REDIRECTS", /more than 3/);

    // 303 turns a POST into a GET without its body.
    await fetchUp(get(to("/after-post", 303), { method: "POST", body: '{"a":1}' }));
    deepStrictEqual([api.seen.at(-1)!.method, api.seen.at(-1)!.body], ["GET", ""]);
  } finally {
    await api.close();
    await other.close();
  }
});

Deno.test("guarded fetch: a slow upstream times out, a large one is cut off while streaming", async () => {
  const api = startFakeApi();
  try {
    const started = Date.now();
    await refusedWith(
      guard({ allow: [api.hostPort], timeoutMs: 300 })(get(`${api.url}/slow?ms=5000`)),
      "TIMEOUT",
      /did not answer within 300 ms/,
    );
    ok(Date.now() - started < 4_000, "gave up well before the upstream answered");
    await refusedWith(
      guard({ allow: [api.hostPort], max: 50_000 })(get(`${api.url}/big?bytes=5000000`)),
      "TOO_LARGE",
      /more than 50000 bytes/,
    );
    const fits = await guard({ allow: [api.hostPort], max: 50_000 })(
      get(`${api.url}/big?bytes=40000`),
    );
    ok(fits.body.byteLength >= 40_000 && fits.body.byteLength <= 50_000);
  } finally {
    await api.close();
  }
});

/**
 * A local server whose answer comes a chunk at a time: each chunk waits for `send()` from the
 * test; `cancelled` settles when the connection's reader gave up on the body.
 */
function startDrip() {
  const queue: (string | null)[] = [];
  let wake: () => void = () => {};
  let markCancelled: () => void = () => {};
  const cancelled = new Promise<void>((resolve) => (markCancelled = resolve));
  const encoder = new TextEncoder();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () =>
      new Response(
        new ReadableStream<Uint8Array>({
          async pull(controller) {
            while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
            const next = queue.shift()!;
            if (next === null) controller.close();
            else controller.enqueue(encoder.encode(next));
          },
          cancel() {
            markCancelled();
          },
        }, { highWaterMark: 0 }),
        { headers: { "content-type": "text/event-stream" } },
      ),
  );
  const { port } = server.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${port}/`,
    hostPort: `127.0.0.1:${port}`,
    /** Sends a chunk; null ends the body. */
    send(chunk: string | null) {
      queue.push(chunk);
      wake();
    },
    cancelled,
    close: () => {
      queue.push(null);
      wake();
      return server.shutdown();
    },
  };
}

const decoder = new TextDecoder();

Deno.test("guarded fetch (stream): the body is handed over chunk by chunk as the upstream sends it", async () => {
  const drip = startDrip();
  try {
    drip.send("first ");
    const res = await guard({ allow: [drip.hostPort] })(get(drip.url, { stream: true }));
    equal(res.status, 200);
    equal(res.body.byteLength, 0, "nothing buffered");
    const reader = res.stream!.getReader();
    // The upstream has sent one chunk and waits: the reader has it already.
    equal(decoder.decode((await reader.read()).value), "first ");
    drip.send("second");
    equal(decoder.decode((await reader.read()).value), "second");
    drip.send(null);
    equal((await reader.read()).done, true);
  } finally {
    await drip.close();
  }
});

Deno.test("guarded fetch (stream): the size cap is counted as bytes pass; past it the reader fails and the upstream is cancelled", async () => {
  const drip = startDrip();
  try {
    drip.send("12345678");
    const res = await guard({ allow: [drip.hostPort], max: 10 })(get(drip.url, { stream: true }));
    const reader = res.stream!.getReader();
    equal(decoder.decode((await reader.read()).value), "12345678", "under the cap: passed on");
    drip.send("9abcdefg");
    await refusedWith(reader.read(), "TOO_LARGE", /more than 10 bytes/);
    await drip.cancelled;
  } finally {
    await drip.close();
  }
});

Deno.test("guarded fetch (stream): the time limit runs until the last byte", async () => {
  const drip = startDrip();
  try {
    drip.send("early");
    const started = performance.now();
    const res = await guard({ allow: [drip.hostPort], timeoutMs: 400 })(
      get(drip.url, { stream: true }),
    );
    const reader = res.stream!.getReader();
    equal(decoder.decode((await reader.read()).value), "early");
    // Nothing more comes: the read fails at the limit, naming it.
    await refusedWith(reader.read(), "TIMEOUT", /did not answer within 400 ms/);
    ok(performance.now() - started < 3_000);
    await drip.cancelled;
  } finally {
    await drip.close();
  }
});

Deno.test("guarded fetch: the caller's signal ends the call with its own reason, before or during the body", async () => {
  const drip = startDrip();
  try {
    const before = new AbortController();
    before.abort(new Error("caller gave up"));
    await rejects(
      guard({ allow: [drip.hostPort] })(get(drip.url, { signal: before.signal })),
      /caller gave up/,
    );

    drip.send("partial");
    const during = new AbortController();
    const res = await guard({ allow: [drip.hostPort] })(
      get(drip.url, { stream: true, signal: during.signal }),
    );
    const reader = res.stream!.getReader();
    equal(decoder.decode((await reader.read()).value), "partial");
    during.abort(new Error("caller left"));
    await rejects(reader.read(), /caller left/);
    await drip.cancelled;
  } finally {
    await drip.close();
  }
});

Deno.test("guarded fetch (stream): a body declared larger than the cap is refused before any of it is read", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response(new Uint8Array(60_000)),
  );
  const { port } = server.addr as Deno.NetAddr;
  try {
    await refusedWith(
      guard({ allow: [`127.0.0.1:${port}`], max: 50_000 })(
        get(`http://127.0.0.1:${port}/`, { stream: true }),
      ),
      "TOO_LARGE",
      /more than 50000 bytes/,
    );
  } finally {
    await server.shutdown();
  }
});
