// Per-cluster secrets and the API keys derived from them. A persisted cluster keeps its
// secrets on disk so keys stay byte-identical across dev runs.

import { signJwt } from "../jwt.ts";
import { newSigningKey, type SigningKey } from "./signing_key.ts";

const TEN_YEARS_S = 10 * 365 * 24 * 60 * 60;

/** The `sub` of authenticatedKey: a fixed user id tests can rely on. */
export const AUTHENTICATED_USER_ID = "00000000-0000-4000-8000-000000000001";

export interface StackSecrets {
  jwtSecret: string;
  metricsToken: string;
  /** The function's TENANT_SECRETS_KEY: encrypts tenant secrets where Vault is absent. */
  tenantSecretsKey: string;
  /** iat of every minted key, in seconds. */
  issuedAt: number;
  /** Signs user access tokens (the local Auth stand-in); its public half is the JWKS. */
  signingKey: SigningKey;
}

export interface StackKeys {
  anonKey: string;
  serviceRoleKey: string;
  authenticatedKey: string;
}

function randomHex(bytes: number): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  return [...buf].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export async function newSecrets(): Promise<StackSecrets> {
  return {
    jwtSecret: randomHex(32),
    metricsToken: randomHex(24),
    tenantSecretsKey: randomHex(32),
    issuedAt: Math.floor(Date.now() / 1000),
    signingKey: await newSigningKey(),
  };
}

function isSecrets(value: unknown): value is StackSecrets {
  const v = value as StackSecrets;
  return typeof v?.jwtSecret === "string" && v.jwtSecret.length >= 32 &&
    typeof v.metricsToken === "string" && typeof v.issuedAt === "number";
}

/** Reads secrets from `path`, creating the file (mode 0600) when missing or unreadable. */
export async function loadSecrets(path: string): Promise<StackSecrets> {
  let secrets: StackSecrets | undefined;
  try {
    const stored = JSON.parse(await Deno.readTextFile(path));
    if (isSecrets(stored)) {
      if (typeof stored.tenantSecretsKey === "string" && stored.signingKey?.kid) return stored;
      // Written before tenant secrets or user tokens existed: keep the rest, add what is missing.
      secrets = {
        ...stored,
        tenantSecretsKey: stored.tenantSecretsKey ?? randomHex(32),
        signingKey: stored.signingKey?.kid ? stored.signingKey : await newSigningKey(),
      };
    }
  } catch {
    // Missing or corrupt: start over with new secrets.
  }
  secrets ??= await newSecrets();
  await Deno.writeTextFile(path, JSON.stringify(secrets, null, 2) + "\n", { mode: 0o600 });
  return secrets;
}

/** Keys shaped like a Supabase project's: HS256 with the project's JWT secret. */
export async function mintKeys(secrets: StackSecrets): Promise<StackKeys> {
  const base = { iss: "supabase-demo", iat: secrets.issuedAt, exp: secrets.issuedAt + TEN_YEARS_S };
  const [anonKey, serviceRoleKey, authenticatedKey] = await Promise.all([
    signJwt({ ...base, role: "anon" }, secrets.jwtSecret),
    signJwt({ ...base, role: "service_role" }, secrets.jwtSecret),
    signJwt(
      { ...base, role: "authenticated", aud: "authenticated", sub: AUTHENTICATED_USER_ID },
      secrets.jwtSecret,
    ),
  ]);
  return { anonKey, serviceRoleKey, authenticatedKey };
}
