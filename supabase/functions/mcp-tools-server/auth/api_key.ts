/**
 * The API key format: `mcpk_<key id>_<secret><checksum>`, made by public.issue_api_key.
 * - key id: 12 hex characters, public (admin lists and logs show it);
 * - secret: 64 hex characters (32 random bytes);
 * - checksum: the first 6 hex characters of SHA-256 over everything before it.
 * The fixed prefix lets secret scanners spot leaked keys; the checksum lets the function turn away
 * mistyped or truncated keys without asking the database.
 */
const KEY_FORMAT = /^mcpk_([0-9a-f]{12})_[0-9a-f]{64}[0-9a-f]{6}$/;
const CHECKSUM_LENGTH = 6;

export interface ParsedKey {
  key: string;
  keyId: string;
  /** What humans and logs may see: `mcpk_<key id>`. */
  displayPrefix: string;
}

/** The key's parts when it has the right shape; null otherwise. The checksum is not checked here. */
export function parseApiKey(key: string): ParsedKey | null {
  const match = KEY_FORMAT.exec(key);
  if (!match) return null;
  return { key, keyId: match[1], displayPrefix: `mcpk_${match[1]}` };
}

export async function checksumMatches(key: string): Promise<boolean> {
  const body = key.slice(0, -CHECKSUM_LENGTH);
  return (await sha256Hex(body)).slice(0, CHECKSUM_LENGTH) === key.slice(-CHECKSUM_LENGTH);
}

/** `body` followed by its checksum: a well-formed key (used by tests and tools that build keys). */
export async function withChecksum(body: string): Promise<string> {
  return body + (await sha256Hex(body)).slice(0, CHECKSUM_LENGTH);
}

/**
 * Hashed only when a key is looked up (a key-cache miss), so WebCrypto's few tens of µs don't
 * matter, and the start-up path loads no node:crypto.
 */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  let hex = "";
  for (const byte of new Uint8Array(digest)) hex += byte.toString(16).padStart(2, "0");
  return hex;
}
