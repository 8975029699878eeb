// The local project's asymmetric signing key (ES256), as new Supabase projects have: Auth signs
// user tokens with it and publishes the public half as a JWKS. WebCrypto only, no dependency.

/** A private EC P-256 key as JWK, with its key id. */
export type SigningKey = JsonWebKey & { kid: string };

const ALG = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;
const encoder = new TextEncoder();

export async function newSigningKey(): Promise<SigningKey> {
  const pair = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]) as CryptoKeyPair;
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  return { ...jwk, kid: crypto.randomUUID() };
}

/** The public half, as it appears in the JWKS. */
export function publicJwk(key: SigningKey): Record<string, unknown> {
  return { kty: key.kty, crv: key.crv, x: key.x, y: key.y, kid: key.kid, alg: "ES256", use: "sig" };
}

/** The JWKS as Supabase injects it into functions (SUPABASE_JWKS). */
export function jwksJson(key: SigningKey): string {
  return JSON.stringify({ keys: [publicJwk(key)] });
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

export async function signEs256(
  payload: Record<string, unknown>,
  key: SigningKey,
  header: Record<string, unknown> = {},
): Promise<string> {
  const { kid, ...jwk } = key;
  const privateKey = await crypto.subtle.importKey(
    "jwk",
    { ...jwk, key_ops: ["sign"] },
    ALG,
    false,
    [
      "sign",
    ],
  );
  const head = base64url(
    encoder.encode(JSON.stringify({ alg: "ES256", typ: "JWT", kid, ...header })),
  );
  const body = base64url(encoder.encode(JSON.stringify(payload)));
  const signature = await crypto.subtle.sign(SIGN, privateKey, encoder.encode(`${head}.${body}`));
  return `${head}.${body}.${base64url(new Uint8Array(signature))}`;
}

/** The payload of an ES256 token this key signed, or null. Expiry is checked too. */
export async function verifyEs256(
  token: string,
  key: SigningKey,
): Promise<Record<string, unknown> | null> {
  const [head, body, signature] = token.split(".");
  if (!head || !body || !signature) return null;
  try {
    const publicKey = await crypto.subtle.importKey(
      "jwk",
      publicJwk(key) as JsonWebKey,
      ALG,
      false,
      [
        "verify",
      ],
    );
    const ok = await crypto.subtle.verify(
      SIGN,
      publicKey,
      fromBase64url(signature),
      encoder.encode(`${head}.${body}`),
    );
    if (!ok) return null;
    const claims = JSON.parse(new TextDecoder().decode(fromBase64url(body)));
    return typeof claims.exp === "number" && claims.exp * 1000 > Date.now() ? claims : null;
  } catch {
    return null;
  }
}
