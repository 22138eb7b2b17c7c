import { readFileSync } from 'node:fs';

/**
 * Connection options for a real Temporal cluster, from the environment (shared by worker and API):
 * TEMPORAL_ADDRESS; TEMPORAL_TLS=1 for server-authenticated TLS; TEMPORAL_TLS_CERT + TEMPORAL_TLS_KEY (file
 * paths) for mTLS; TEMPORAL_TLS_CA for a private root CA; TEMPORAL_TLS_SERVER_NAME to override SNI;
 * TEMPORAL_API_KEY for API-key auth (implies TLS).
 */
export function temporalConnectionOptions(env: NodeJS.ProcessEnv, address: string) {
  const file = (name: string) => {
    const p = env[name];
    return p ? readFileSync(p) : undefined;
  };
  const crt = file('TEMPORAL_TLS_CERT');
  const key = file('TEMPORAL_TLS_KEY');
  if (!!crt !== !!key) throw new Error('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together');
  const ca = file('TEMPORAL_TLS_CA');
  const apiKey = env.TEMPORAL_API_KEY || undefined;
  const useTls = env.TEMPORAL_TLS === '1' || !!crt || !!ca || !!apiKey;
  return {
    address,
    ...(useTls
      ? {
          tls: {
            ...(crt && key ? { clientCertPair: { crt, key } } : {}),
            ...(ca ? { serverRootCACertificate: ca } : {}),
            ...(env.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: env.TEMPORAL_TLS_SERVER_NAME } : {}),
          },
        }
      : {}),
    ...(apiKey ? { apiKey } : {}),
  };
}
