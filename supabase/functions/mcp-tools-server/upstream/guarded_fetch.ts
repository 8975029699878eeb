/**
 * The only way tools reach a tenant's upstream API: every hop's host is checked against the
 * address policy after resolving it, redirects are followed by hand (and checked again),
 * plain-HTTP connections are pinned to the address that was checked (the request goes to that
 * address with the name in the Host header, which works on the edge runtime's Deno 2.1.4 as on
 * current Deno), and the whole call is bounded in time and in response size. A caller that asks
 * for `stream` gets the body as it arrives (an MCP server's SSE answer), still bounded: the size
 * is counted chunk by chunk and the time limit runs until the last byte.
 *
 * HTTPS connections are not pinned (Deno's fetch has no hook for it): fetch resolves the name
 * again, so a name whose DNS answer changes between the check and the connection could reach a
 * refused address. The TLS handshake still has to present a valid certificate for the name,
 * which an internal service reached that way doesn't have.
 */
import {
  AllowList,
  forbiddenAddressReason,
  forbiddenNameReason,
  isIpLiteral,
} from "./address_policy.ts";

/**
 * A name → every address it resolves to. `node:dns` lookup: getaddrinfo on current Deno, DNS
 * queries (Deno.resolveDns) on the edge runtime, so /etc/hosts may not be consulted there.
 */
export type Resolver = (hostname: string) => Promise<string[]>;

// node:dns is loaded by the first upstream call, not at start-up (it costs milliseconds there).
let dns: Promise<typeof import("node:dns/promises")> | undefined;

export const systemResolver: Resolver = async (hostname) => {
  const { lookup } = await (dns ??= import("node:dns/promises").catch((err) => {
    dns = undefined;
    throw err;
  }));
  const rows = await lookup(hostname, { all: true, verbatim: true });
  return rows.map((row) => row.address);
};

export interface UpstreamPolicy {
  allow: AllowList;
  /** Upper bound for a whole call, redirects and body included. */
  timeoutMs: number;
  /** Largest response body, counted after decompression, while it streams. */
  maxResponseBytes: number;
  maxRedirects: number;
  resolve?: Resolver;
  userAgent?: string;
}

export interface UpstreamRequest {
  url: URL;
  method: string;
  headers: Headers;
  body?: string;
  /** Header names dropped when a redirect leads to another origin (credentials). */
  credentialHeaders?: readonly string[];
  /** A shorter bound than the policy's for this call. */
  timeoutMs?: number;
  /** Ends the call early (the caller gave up); its reason is what the call fails with. */
  signal?: AbortSignal;
  /**
   * Hand the body over as it arrives (`UpstreamResponse.stream`) instead of reading it first.
   * The stream fails with an UpstreamError (TOO_LARGE, TIMEOUT) when a limit is passed mid-way.
   */
  stream?: boolean;
}

export interface UpstreamResponse {
  status: number;
  headers: Headers;
  /** The URL that answered, after redirects. */
  url: string;
  /** The whole body; empty when the request asked for `stream`. */
  body: Uint8Array;
  /** With `stream`: the body as it arrives. Read it to the end or cancel it. */
  stream?: ReadableStream<Uint8Array>;
}

export type UpstreamErrorKind =
  | "FORBIDDEN_DESTINATION"
  | "DNS_FAILED"
  | "TIMEOUT"
  | "TOO_LARGE"
  | "TOO_MANY_REDIRECTS"
  | "UNREACHABLE";

/** A refusal or failure reaching the upstream; the message names hosts, never credentials. */
export class UpstreamError extends Error {
  constructor(readonly kind: UpstreamErrorKind, message: string) {
    super(message);
    this.name = "UpstreamError";
  }
}

export type GuardedFetch = (request: UpstreamRequest) => Promise<UpstreamResponse>;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function defaultPort(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
}

export function createGuardedFetch(policy: UpstreamPolicy): GuardedFetch {
  const resolve = policy.resolve ?? systemResolver;

  /** The address to connect to, once the destination has passed every rule. */
  async function checkDestination(url: URL, signal: AbortSignal): Promise<string> {
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new UpstreamError(
        "FORBIDDEN_DESTINATION",
        `Only http and https upstreams are allowed, not ${url.protocol}`,
      );
    }
    if (url.username || url.password) {
      throw new UpstreamError(
        "FORBIDDEN_DESTINATION",
        "Upstream URLs must not carry credentials; configure auth in the tenant's config instead.",
      );
    }
    const host = url.hostname;
    const port = defaultPort(url);
    const hostAllowed = policy.allow.allows(host, port);
    if (!hostAllowed && !isIpLiteral(host)) {
      const reason = forbiddenNameReason(host);
      if (reason) throw refused(`${host} is ${reason}`);
    }
    const addresses = isIpLiteral(host)
      ? [host.replace(/^\[|\]$/g, "")]
      : await resolveName(host, signal);
    if (!hostAllowed) {
      for (const address of addresses) {
        if (policy.allow.allows(address, port)) continue;
        const reason = forbiddenAddressReason(address);
        if (reason) {
          throw refused(
            isIpLiteral(host)
              ? `${host} is ${reason}`
              : `${host} resolves to ${address}, ${reason}`,
          );
        }
      }
    }
    return addresses[0];
  }

  async function resolveName(host: string, signal: AbortSignal): Promise<string[]> {
    let addresses: string[];
    try {
      addresses = await abortable(resolve(host), signal);
    } catch (err) {
      if (signal.aborted) throw err;
      throw new UpstreamError("DNS_FAILED", `The upstream host ${host} could not be resolved.`);
    }
    if (addresses.length === 0) {
      throw new UpstreamError("DNS_FAILED", `The upstream host ${host} has no addresses.`);
    }
    return addresses;
  }

  async function send(
    url: URL,
    init: RequestInit & { headers: Headers },
    address: string,
    signal: AbortSignal,
  ): Promise<{ response: Response; client?: Deno.HttpClient }> {
    // Plain HTTP is pinned to the checked address: the request goes to the address itself,
    // with the name in the Host header, so fetch never resolves the name again.
    const pinned = url.protocol === "http:";
    const client = pinned ? Deno.createHttpClient({ allowHost: true }) : undefined;
    const target = pinned ? addressUrl(url, address) : url;
    const headers = new Headers(init.headers);
    if (pinned) headers.set("host", url.host);
    try {
      const response = await fetch(target, {
        ...init,
        headers,
        redirect: "manual",
        signal,
        client,
      });
      return { response, client };
    } catch (err) {
      client?.close();
      if (signal.aborted) throw err;
      throw new UpstreamError(
        "UNREACHABLE",
        `The upstream ${url.origin} could not be reached (${shortReason(err)}).`,
      );
    }
  }

  return async (request) => {
    const timeoutMs = Math.min(request.timeoutMs ?? policy.timeoutMs, policy.timeoutMs);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
    const origin = request.url.origin;
    /** What an abort means: the time limit, or the caller's own reason. */
    const aborted = (err: unknown) => {
      if (timeout.aborted) {
        return new UpstreamError(
          "TIMEOUT",
          `The upstream ${origin} did not answer within ${timeoutMs} ms.`,
        );
      }
      return request.signal?.aborted ? request.signal.reason : err;
    };
    try {
      let url = new URL(request.url);
      let method = request.method.toUpperCase();
      let body = request.body;
      const headers = new Headers(request.headers);
      if (policy.userAgent && !headers.has("user-agent")) {
        headers.set("user-agent", policy.userAgent);
      }
      for (let hop = 0;; hop++) {
        const address = await checkDestination(url, signal);
        const { response, client } = await send(url, { method, headers, body }, address, signal);
        let handedOver = false;
        try {
          const location = response.headers.get("location");
          if (!REDIRECTS.has(response.status) || location === null) {
            if (request.stream) {
              const stream = cappedStream(response, policy.maxResponseBytes, url, {
                aborted,
                signal,
                done: () => client?.close(),
              });
              handedOver = true;
              return {
                status: response.status,
                headers: response.headers,
                url: url.href,
                body: new Uint8Array(),
                stream: await stream,
              };
            }
            return {
              status: response.status,
              headers: response.headers,
              url: url.href,
              // A HEAD answer has no body; its Content-Length describes the resource, not it.
              body: method === "HEAD"
                ? await discardHeadBody(response)
                : await readCapped(response, policy.maxResponseBytes, url),
            };
          }
          await response.body?.cancel();
          if (hop >= policy.maxRedirects) {
            throw new UpstreamError(
              "TOO_MANY_REDIRECTS",
              `The upstream redirected more than ${policy.maxRedirects} times.`,
            );
          }
          const next = new URL(location, url);
          if (next.origin !== url.origin) {
            for (const name of request.credentialHeaders ?? []) headers.delete(name);
          }
          // As browsers do: 303 always, and 301/302 after a POST, continue as a GET.
          if (response.status === 303 || (response.status <= 302 && method === "POST")) {
            if (method !== "HEAD") method = "GET";
            body = undefined;
            headers.delete("content-type");
          }
          url = next;
        } finally {
          if (!handedOver) client?.close();
        }
      }
    } catch (err) {
      if (err instanceof UpstreamError) throw err;
      if (signal.aborted) throw aborted(err);
      throw err;
    }
  };
}

/** `url` with its host replaced by `address` (bracketed when IPv6), port and path kept. */
function addressUrl(url: URL, address: string): URL {
  const target = new URL(url);
  target.hostname = address.includes(":") ? `[${address}]` : address;
  return target;
}

function refused(what: string): UpstreamError {
  return new UpstreamError(
    "FORBIDDEN_DESTINATION",
    `Refused to call the upstream: ${what}. Only public addresses are reachable unless the ` +
      "deployment allows the host (UPSTREAM_ALLOW_HOSTS).",
  );
}

function tooLarge(url: URL, max: number): UpstreamError {
  return new UpstreamError(
    "TOO_LARGE",
    `The upstream ${url.origin} answered with more than ${max} bytes; refusing the response.`,
  );
}

async function discardHeadBody(response: Response): Promise<Uint8Array> {
  await response.body?.cancel();
  return new Uint8Array();
}

/** Refuses a body whose declared length is already past the cap, before reading any of it. */
async function refuseDeclaredTooLarge(response: Response, max: number, url: URL): Promise<void> {
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > max) {
    await response.body?.cancel();
    throw tooLarge(url, max);
  }
}

/**
 * The body passed on chunk by chunk as the reader pulls, failing (and cancelling the upstream)
 * as soon as it passes `max` bytes or the call's time is up. `done` runs once, however it ends.
 */
async function cappedStream(
  response: Response,
  max: number,
  url: URL,
  ends: { aborted: (err: unknown) => unknown; signal: AbortSignal; done: () => void },
): Promise<ReadableStream<Uint8Array>> {
  let finished = false;
  // Set once the body is being read (below); until then an abort has nothing to end.
  let onAbort = () => {};
  const finish = () => {
    if (finished) return;
    finished = true;
    ends.signal.removeEventListener("abort", onAbort);
    ends.done();
  };
  try {
    await refuseDeclaredTooLarge(response, max, url);
  } catch (err) {
    finish();
    throw err;
  }
  if (!response.body) {
    finish();
    return new ReadableStream({ start: (controller) => controller.close() });
  }
  const reader = response.body.getReader();
  let total = 0;
  // An abort (the time limit, or the caller leaving) ends the upstream's answer at once, whether
  // or not a read is waiting: on the edge runtime's Deno an aborted fetch did not always end the
  // body being streamed, and an upstream waiting on something kept its answer open.
  onAbort = () => {
    reader.cancel(ends.signal.reason).catch(() => {});
    finish();
  };
  ends.signal.addEventListener("abort", onAbort, { once: true });
  const fail = async (controller: ReadableStreamDefaultController<Uint8Array>, err: unknown) => {
    await reader.cancel().catch(() => {});
    finish();
    controller.error(err);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        return await fail(controller, ends.signal.aborted ? ends.aborted(err) : err);
      }
      if (ends.signal.aborted) return await fail(controller, ends.aborted(ends.signal.reason));
      if (chunk.done) {
        finish();
        return controller.close();
      }
      total += chunk.value.byteLength;
      if (total > max) return await fail(controller, tooLarge(url, max));
      controller.enqueue(chunk.value);
    },
    async cancel(reason) {
      await reader.cancel(reason).catch(() => {});
      finish();
    },
  }, { highWaterMark: 0 });
}

/** Reads the body, giving up as soon as it passes `max` bytes. */
async function readCapped(response: Response, max: number, url: URL): Promise<Uint8Array> {
  await refuseDeclaredTooLarge(response, max, url);
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel();
      throw tooLarge(url, max);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** The innermost cause in a few words: "Connection refused", not a URL-laden stack. */
function shortReason(err: unknown): string {
  let e = err as { cause?: unknown; message?: string } | undefined;
  while (e && typeof e === "object" && e.cause) e = e.cause as typeof e;
  const message = String(e?.message ?? err);
  const os = /\(os error \d+\)|Connection refused|connection reset|certificate|timed out/i.exec(
    message,
  );
  if (os) return os[0];
  return message.replace(/https?:\/\/\S+/g, "").slice(0, 120).trim() || "network error";
}
