/**
 * A tenant's upstream API, played by a real HTTP server on 127.0.0.1 that records what reaches
 * it. Routes: /echo (request as JSON), /credential (the Authorization credential), /deep/<n>
 * (JSON nested n levels), /status/<code>, /file/<name> (a PDF; "missing" 404s), /text, /slow?ms=, /big?bytes=,
 * /redirect?to=<url>&status=, /loop (redirects to
 * itself), /empty; anything else answers JSON describing the request.
 */

export interface SeenRequest {
  method: string;
  path: string;
  query: Record<string, string[]>;
  headers: Record<string, string>;
  body: string;
}

export interface FakeApi {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  /** host:port, as the allow-list names it. */
  hostPort: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

function describe(req: Request, url: URL, body: string): SeenRequest {
  const query: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) (query[k] ??= []).push(v);
  return {
    method: req.method,
    path: url.pathname,
    query,
    headers: Object.fromEntries(req.headers),
    body,
  };
}

export function startFakeApi(name = "api"): FakeApi {
  const seen: SeenRequest[] = [];
  const closing = new AbortController();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const body = await req.text();
    const request = describe(req, url, body);
    seen.push(request);
    const json = (value: unknown, status = 200) => Response.json(value, { status });
    // A tenant's base path (/t/<name>) may precede the route.
    const [, route, arg] = url.pathname.replace(/^\/t\/[^/]+/, "").split("/");
    switch (route) {
      case "credential":
        // Echoes only the credential part of Authorization (e.g. Basic's base64 of user:secret).
        return json({ echoed: (req.headers.get("authorization") ?? "").split(" ")[1] ?? "" });
      case "deep":
        // JSON nested far deeper than any API answers.
        return new Response(
          "[".repeat(Number(arg) || 100_000) + "]".repeat(Number(arg) || 100_000),
          {
            headers: { "content-type": "application/json" },
          },
        );
      case "status":
        // Echoes the credential it got, as careless APIs do in error messages.
        return new Response(
          JSON.stringify({
            error: `upstream says ${arg}`,
            auth: req.headers.get("authorization"),
            detail: "x".repeat(3000),
          }),
          {
            status: Number(arg),
            headers: { "content-type": "application/json" },
          },
        );
      case "file":
        // A downloadable resource, as HEAD describes it; "missing" is not there. Its Location
        // carries the credential, as signed download links do, and a cookie rides along.
        return arg === "missing"
          ? json({ error: "no such file" }, 404)
          // "big.iso" is larger than any response the function may read (5 MB).
          : new Response("%PDF".padEnd(arg === "big.iso" ? 5_000_000 : 4321, "x"), {
            headers: {
              "content-type": "application/pdf",
              etag: `"${arg}-v3"`,
              "last-modified": "Tue, 03 Nov 2026 10:00:00 GMT",
              "cache-control": "max-age=60",
              "set-cookie": "session=fake-session-id",
              location: `https://cdn.example.com/${arg}?sig=${
                (req.headers.get("authorization") ?? "").split(" ")[1] ?? ""
              }`,
              "x-request-cost": "3",
            },
          });
      case "text":
        return new Response(`plain text from ${name}`, {
          headers: { "content-type": "text/plain" },
        });
      case "empty":
        return new Response(null, { status: 204 });
      case "slow": {
        const ms = Number(url.searchParams.get("ms") ?? 5000);
        // Ends early when the server closes, so shutting it down doesn't wait.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          closing.signal.addEventListener("abort", () => {
            clearTimeout(timer);
            resolve();
          });
        });
        return json({ slow: true });
      }
      case "big": {
        // Streamed without a length, so only counting while reading can stop it.
        const total = Number(url.searchParams.get("bytes") ?? 2_000_000);
        let sent = 0;
        const chunk = new TextEncoder().encode("y".repeat(16_384));
        return new Response(
          new ReadableStream({
            pull(controller) {
              if (sent >= total) return controller.close();
              controller.enqueue(chunk);
              sent += chunk.byteLength;
            },
          }),
          { headers: { "content-type": "text/plain" } },
        );
      }
      case "loop":
        return new Response(null, { status: 302, headers: { location: "/loop" } });
      case "redirect":
        return new Response(null, {
          status: Number(url.searchParams.get("status") ?? 302),
          headers: { location: url.searchParams.get("to") ?? "/" },
        });
      default:
        return json({ upstream: name, ...request });
    }
  });
  const port = server.addr.port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    hostPort: `127.0.0.1:${port}`,
    seen,
    close: () => {
      closing.abort();
      return server.shutdown();
    },
  };
}
