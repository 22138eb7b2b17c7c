import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporalConnectionOptions } from '../../common/temporal-connection';

describe('connecting to a real Temporal cluster', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cs-tls-'));
  const write = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('uses plain gRPC by default', () => {
    expect(temporalConnectionOptions({}, 'temporal:7233')).toEqual({ address: 'temporal:7233' });
  });

  it('reads an mTLS key pair and a private CA from files', () => {
    const opts = temporalConnectionOptions(
      { TEMPORAL_TLS_CERT: write('c.pem', 'CERT'), TEMPORAL_TLS_KEY: write('k.pem', 'KEY'), TEMPORAL_TLS_CA: write('ca.pem', 'CA') },
      'ns.tmprl.cloud:7233',
    );
    expect(Buffer.from(opts.tls!.clientCertPair!.crt).toString()).toBe('CERT');
    expect(Buffer.from(opts.tls!.clientCertPair!.key).toString()).toBe('KEY');
    expect(Buffer.from(opts.tls!.serverRootCACertificate!).toString()).toBe('CA');
  });

  it('turns TLS on for an API key', () => {
    expect(temporalConnectionOptions({ TEMPORAL_API_KEY: 'secret' }, 'x:7233')).toEqual({ address: 'x:7233', tls: {}, apiKey: 'secret' });
  });

  it('refuses a certificate without its key', () => {
    expect(() => temporalConnectionOptions({ TEMPORAL_TLS_CERT: write('only.pem', 'CERT') }, 'x:7233')).toThrow(/set together/);
  });
});
