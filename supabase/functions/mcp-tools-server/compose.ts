/** The tools' shared services, built once per isolate from the configuration. */
import type { Clock } from "./lib/clock.ts";
import { type Config, SERVER_NAME, SERVER_VERSION, type SupabaseAccess } from "./config.ts";
import { supabaseDatabase } from "./data/rpc.ts";
import { serviceClient } from "./data/supabase_client.ts";
import { cachedTenantSecrets, supabaseTenantSecrets } from "./data/tenant_secrets.ts";
import type { ToolServices } from "./tools/contract.ts";
import { AllowList } from "./upstream/address_policy.ts";
import { createGuardedFetch, type Resolver } from "./upstream/guarded_fetch.ts";

export interface ServiceOptions {
  config: Config;
  access: SupabaseAccess;
  clock: Clock;
  /** Decrypts tenant secrets kept without Vault (TENANT_SECRETS_KEY). */
  tenantSecretsKey?: string;
  /** Name resolution for the address policy; default getaddrinfo, like fetch. */
  resolve?: Resolver;
}

export function createToolServices(options: ServiceOptions): ToolServices {
  const { config, access, clock } = options;
  const secrets = supabaseTenantSecrets(access, {
    timeoutMs: config.storeTimeoutMs,
    localKey: options.tenantSecretsKey,
  });
  return {
    db: supabaseDatabase(serviceClient(access, config.storeTimeoutMs)),
    tenantSecrets: cachedTenantSecrets(secrets, {
      ttlMs: config.tenantSecretsTtlMs,
      maxEntries: 1_000,
      clock,
    }),
    upstreamFetch: createGuardedFetch({
      allow: new AllowList(config.upstreamAllowHosts),
      timeoutMs: config.upstreamTimeoutMs,
      maxResponseBytes: config.upstreamMaxResponseBytes,
      maxRedirects: config.upstreamMaxRedirects,
      resolve: options.resolve,
      userAgent: `${SERVER_NAME}/${SERVER_VERSION}`,
    }),
  };
}
