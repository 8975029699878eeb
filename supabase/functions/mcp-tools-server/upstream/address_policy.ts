/**
 * Which upstream hosts and addresses a tenant's API tool may reach. Deny by default for
 * everything that is not a public unicast address: loopback, private and shared ranges,
 * link-local (cloud metadata lives there), multicast, reserved and documentation ranges, and
 * IPv6 forms that embed such an IPv4 address. An explicit allow-list of `host:port` entries
 * (local development, tests) lifts the rule for exactly those endpoints.
 */
import { HOST_PORT_FORMAT, hostPortEntry } from "../config.ts";

/** [first address, prefix length, why it is refused] */
type Range4 = [string, number, string];

const FORBIDDEN_V4: Range4[] = [
  ["0.0.0.0", 8, "an unspecified ('this network') address"],
  ["10.0.0.0", 8, "a private (RFC 1918) address"],
  ["100.64.0.0", 10, "a shared carrier-grade NAT address"],
  ["127.0.0.0", 8, "a loopback address"],
  ["169.254.0.0", 16, "a link-local address (cloud metadata services live there)"],
  ["172.16.0.0", 12, "a private (RFC 1918) address"],
  ["192.0.0.0", 24, "an IETF protocol assignment address"],
  ["192.0.2.0", 24, "a documentation address"],
  ["192.88.99.0", 24, "a 6to4 relay address"],
  ["192.168.0.0", 16, "a private (RFC 1918) address"],
  ["198.18.0.0", 15, "a benchmarking address"],
  ["198.51.100.0", 24, "a documentation address"],
  ["203.0.113.0", 24, "a documentation address"],
  ["224.0.0.0", 4, "a multicast address"],
  ["240.0.0.0", 4, "a reserved address"],
];

const V4_RANGES = FORBIDDEN_V4.map(([base, bits, reason]) => ({
  base: parseIPv4(base)!,
  mask: bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0,
  reason,
}));

/** Names that only mean something inside a network, whatever they resolve to. */
const FORBIDDEN_SUFFIXES = [".localhost", ".local", ".internal", ".home.arpa", ".lan", ".intranet"];

/** Strict dotted quad (what URL parsing and getaddrinfo produce) → 32-bit number. */
export function parseIPv4(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part) || Number(part) > 255) return null;
    value = value * 256 + Number(part);
  }
  return value;
}

/** IPv6 text (with or without brackets or a zone) → eight 16-bit groups. */
export function parseIPv6(text: string): number[] | null {
  let s = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  s = s.replace(/%.*$/, "");
  if (!s.includes(":")) return null;
  let tail: number[] = [];
  if (s.includes(".")) {
    const at = s.lastIndexOf(":");
    const v4 = parseIPv4(s.slice(at + 1));
    if (v4 === null) return null;
    tail = [v4 >>> 16, v4 & 0xffff];
    s = s.slice(0, at + 1);
    if (!s.endsWith("::")) s = s.slice(0, -1);
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  const parsed: number[] = [];
  for (const g of [...head, ...rest]) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    parsed.push(parseInt(g, 16));
  }
  const total = parsed.length + tail.length;
  if (halves.length === 1 && total !== 8) return null;
  if (halves.length === 2 && total > 7) return null;
  const zeros = new Array(8 - total).fill(0);
  const headNums = parsed.slice(0, head.length);
  const restNums = parsed.slice(head.length);
  return halves.length === 2
    ? [...headNums, ...zeros, ...restNums, ...tail]
    : [...headNums, ...restNums, ...tail];
}

function v4Reason(value: number): string | null {
  if (value === 0xffffffff) return "the broadcast address";
  for (const range of V4_RANGES) {
    if (((value & range.mask) >>> 0) === range.base) return range.reason;
  }
  return null;
}

function v6Reason(g: number[]): string | null {
  const embedded = (hi: number, lo: number) => ((g[hi] << 16) >>> 0) + g[lo];
  const prefixZero = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (g.every((x) => x === 0)) return "the unspecified address";
  if (prefixZero(7) && g[7] === 1) return "a loopback address";
  // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible), 64:ff9b::a.b.c.d (NAT64): judge the IPv4.
  if (prefixZero(5) && g[5] === 0xffff) return mapped(embedded(6, 7), "an IPv4-mapped");
  if (prefixZero(6)) return mapped(embedded(6, 7), "an IPv4-compatible");
  // ::ffff:0:a.b.c.d (IPv4-translated, SIIT) reaches the IPv4 address just the same.
  if (prefixZero(4) && g[4] === 0xffff && g[5] === 0) {
    return mapped(embedded(6, 7), "an IPv4-translated");
  }
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) {
    return mapped(embedded(6, 7), "a NAT64");
  }
  if (g[0] === 0x2002) return mapped(embedded(1, 2), "a 6to4");
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return "a local-use NAT64 address";
  if (g[0] === 0x100 && g.slice(1, 4).every((x) => x === 0)) return "a discard-only address";
  if (g[0] === 0x2001 && g[1] < 0x200) return "an IETF protocol assignment address (e.g. Teredo)";
  if (g[0] === 0x2001 && g[1] === 0xdb8) return "a documentation address";
  if ((g[0] & 0xfff0) === 0x3ff0) return "a documentation address";
  if ((g[0] & 0xfe00) === 0xfc00) return "a unique local (private) address";
  if ((g[0] & 0xffc0) === 0xfe80) return "a link-local address";
  if ((g[0] & 0xffc0) === 0xfec0) return "a site-local address";
  if ((g[0] & 0xff00) === 0xff00) return "a multicast address";
  return null;
}

function mapped(v4: number, form: string): string | null {
  const reason = v4Reason(v4);
  return reason ? `${form} form of ${reason}` : null;
}

/** Why an IP address may not be reached, or null if it is a public unicast address. */
export function forbiddenAddressReason(ip: string): string | null {
  const v4 = parseIPv4(ip);
  if (v4 !== null) return v4Reason(v4);
  const v6 = parseIPv6(ip);
  if (v6 !== null) return v6Reason(v6);
  return "not an IP address";
}

/** Why a host name is refused before any lookup, or null. */
export function forbiddenNameReason(hostname: string): string | null {
  const name = hostname.toLowerCase().replace(/\.$/, "");
  if (name === "localhost") return null; // resolved like any name, and refused by its address
  if (!name.includes(".")) return "a single-label name, which only resolves inside a network";
  const suffix = FORBIDDEN_SUFFIXES.find((s) => name.endsWith(s));
  if (suffix) return `a name under "${suffix.slice(1)}", which only resolves inside a network`;
  return null;
}

export function isIpLiteral(hostname: string): boolean {
  return parseIPv4(hostname) !== null || parseIPv6(hostname) !== null;
}

/** Canonical form of an address or name for allow-list comparison. */
function canonicalHost(host: string): string {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  const v6 = parseIPv6(bare);
  if (v6) return v6.map((x) => x.toString(16)).join(":");
  return bare.toLowerCase().replace(/\.$/, "");
}

/**
 * `host:port` entries that are reachable although the rules above would refuse them
 * (`[::1]:8080` for IPv6; `*` as the port allows any port of that host). An entry naming an IP
 * also allows names that resolve to it.
 */
export class AllowList {
  readonly #entries: Set<string>;

  constructor(readonly entries: readonly string[] = []) {
    this.#entries = new Set(entries.map((entry) => AllowList.#canonicalEntry(entry)));
  }

  /** Parses the comma-separated form used in the environment; throws on a malformed entry. */
  static parse(text: string | undefined): AllowList {
    const entries = (text ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    return new AllowList(entries);
  }

  static #canonicalEntry(entry: string): string {
    const parts = hostPortEntry(entry);
    if (!parts) throw new Error(`Allow-list entry "${entry}" must be ${HOST_PORT_FORMAT}`);
    return `${canonicalHost(parts.host)}:${parts.port}`;
  }

  get size(): number {
    return this.#entries.size;
  }

  allows(host: string, port: number): boolean {
    const h = canonicalHost(host);
    return this.#entries.has(`${h}:${port}`) || this.#entries.has(`${h}:*`);
  }
}
