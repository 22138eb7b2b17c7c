import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KnowledgeHolder } from '../../activities/knowledge-holder';
import { config } from '../../common/config';
import { openDatabase } from '../../db/data-source';
import { seedKnowledge } from '../../knowledge/store';
import { defaultEncoderDir, SentenceEncoder } from '../../models/encoder/encoder';

/** A fresh database of its own, with the committed knowledge seeded. */
async function seededKnowledge(): Promise<DataSource> {
  const url = new URL(config.databaseUrl);
  url.pathname = '/cs_test_knowledge_semantic_holder';
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const { Client } = await import('pg');
  const pg = new Client({ connectionString: admin.toString() });
  await pg.connect();
  await pg.query(`DROP DATABASE IF EXISTS "${url.pathname.slice(1)}" WITH (FORCE)`);
  await pg.end();
  const ds = await openDatabase(url.toString());
  await seedKnowledge(ds);
  return ds;
}

/** What the holder logged. */
function recorder() {
  const lines: string[] = [];
  return { lines, log: { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(`WARN ${m}`) } };
}

const NEW_QUESTION = '邮递员把我的包裹扔哪儿去了';

describe('the knowledge holder with the sentence encoder', () => {
  let ds: DataSource;
  let encoder: SentenceEncoder;
  let cacheDir: string;
  const encoderDir = process.env.CS_ENCODER_DIR;

  beforeAll(async () => {
    encoder = await SentenceEncoder.load();
    // The embedding cache is read from a copy, so that what this test embeds stays out of the shared cache and a
    // phrasing it adds is new to the cache on every run.
    cacheDir = mkdtempSync(path.join(tmpdir(), 'cs-knowledge-semantic-'));
    cpSync(path.join(defaultEncoderDir(), 'cache'), path.join(cacheDir, 'cache'), { recursive: true });
    process.env.CS_ENCODER_DIR = cacheDir;
    ds = await seededKnowledge();
  });
  afterAll(async () => {
    if (encoderDir === undefined) delete process.env.CS_ENCODER_DIR;
    else process.env.CS_ENCODER_DIR = encoderDir;
    rmSync(cacheDir, { recursive: true, force: true });
    await ds?.destroy();
    await encoder?.release();
  });

  it('serves BM25 at once and attaches the vectors of every phrasing when they are ready', async () => {
    let give!: (e: SentenceEncoder) => void;
    const later = new Promise<SentenceEncoder>((resolve) => (give = resolve));
    const { lines, log } = recorder();
    const holder = new KnowledgeHolder(ds, () => later, log);
    const index = await holder.load();
    expect(holder.current()).toBe(index);
    expect(index.semanticModel).toBeUndefined(); // serving, BM25 alone, before the encoder is there
    give(encoder);
    expect(await holder.semanticReady()).toBe(true);
    expect(holder.current()).toBe(index);
    expect(index.semanticModel).toBe(encoder.id);
    const ready = lines.filter((l) => l.startsWith('[knowledge] semantic retrieval ready'));
    expect(ready).toHaveLength(1);
    expect(ready[0]).toMatch(new RegExp(`^\\[knowledge\\] semantic retrieval ready: ${index.phrasings().length} phrasings \\(`));
  });

  it('after a knowledge edit embeds only the new phrasing', async () => {
    const { lines, log } = recorder();
    const holder = new KnowledgeHolder(ds, () => encoder, log);
    await holder.load();
    expect(await holder.semanticReady()).toBe(true);

    const embed = vi.spyOn(encoder, 'embed');
    try {
      await ds.query(
        `UPDATE knowledge_entries SET entry = jsonb_set(entry, '{questions}', (entry->'questions') || to_jsonb($1::text)), version = version + 1
         WHERE intent = 'order.logistics'`,
        [NEW_QUESTION],
      );
      expect(await holder.refreshIfChanged()).toBe(true);
      expect(await holder.semanticReady()).toBe(true);
      expect(embed.mock.calls.map(([texts]) => texts)).toEqual([[NEW_QUESTION]]);
      const index = holder.current();
      expect(index.phrasings()).toContain(NEW_QUESTION);
      expect(index.semanticModel).toBe(encoder.id);
      expect(lines.at(-1)).toMatch(new RegExp(`^\\[knowledge\\] semantic retrieval ready: ${index.phrasings().length} phrasings \\(1 `));

      // Nothing changed: no refresh, nothing embedded.
      embed.mockClear();
      expect(await holder.refreshIfChanged()).toBe(false);
      expect(await holder.semanticReady()).toBe(true);
      expect(embed).not.toHaveBeenCalled();
    } finally {
      embed.mockRestore();
    }
  });

  it('without an encoder is BM25 as before, and attaches the vectors once an encoder is there', async () => {
    const plain = new KnowledgeHolder(ds);
    const index = await plain.load();
    expect(await plain.semanticReady()).toBe(false);
    expect(index.semanticModel).toBeUndefined();

    let available: SentenceEncoder | undefined;
    const { log } = recorder();
    const late = new KnowledgeHolder(ds, () => available, log);
    const served = await late.load();
    expect(await late.semanticReady()).toBe(false);
    const text = '快递好几天没动了';
    const [v] = await encoder.embed([text], 'query');
    expect(served.search(text, 3, v)).toEqual(index.search(text, 3)); // the embedding is ignored without vectors
    available = encoder;
    expect(await late.refreshIfChanged()).toBe(false); // same knowledge, same index…
    expect(await late.semanticReady()).toBe(true); // …now with vectors
    expect(late.current()).toBe(served);
    expect(served.semanticModel).toBe(encoder.id);
  });
});
