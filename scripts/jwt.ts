// HS256 JSON Web Tokens minted with WebCrypto, so the local stack needs no JWT dependency.

const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function encodeJson(value: unknown): string {
  return base64url(encoder.encode(JSON.stringify(value)));
}

/** Signs `payload` as a compact HS256 JWT. */
export async function signJwt(payload: Record<string, unknown>, secret: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const signingInput = `${encodeJson({ alg: "HS256", typ: "JWT" })}.${encodeJson(payload)}`;
  const signature = await crypto.subtle.sign("HMAC", key, encoder.encode(signingInput));
  return `${signingInput}.${base64url(new Uint8Array(signature))}`;
}

/** The payload of an HS256 token signed with `secret`, or null. */
export async function verifyHs256(
  token: string,
  secret: string,
): Promise<Record<string, unknown> | null> {
  const [head, body] = token.split(".");
  if (!head || !body) return null;
  try {
    const payload = JSON.parse(atob(body.replaceAll("-", "+").replaceAll("_", "/")));
    return (await signJwt(payload, secret)) === token ? payload : null;
  } catch {
    return null;
  }
}
