import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { KnowledgeEntryEntity, type KnowledgeRow } from '../db/entities';
import { KnowledgeIndex } from './retrieval';
import { knowledgeEntrySchema, knowledgeFileSchema, metaLexiconSchema, type KnowledgeEntry, type MetaLexicon } from './schema';

export const CONTENT_DIR = path.join(__dirname, 'content');

/** Read and validate every knowledge file; a broken file is an error naming the file. */
export function readContent(dir = CONTENT_DIR): { entries: KnowledgeEntry[]; lexicon: MetaLexicon } {
  const entries: KnowledgeEntry[] = [];
  const files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'meta.json').sort();
  for (const file of files) {
    const parsed = knowledgeFileSchema.safeParse(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
    if (!parsed.success) throw new Error(`knowledge/content/${file}: ${parsed.error.message}`);
    entries.push(...parsed.data);
  }
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.intent)) throw new Error(`knowledge entry ${e.intent} is defined twice`);
    seen.add(e.intent);
  }
  const lexicon = metaLexiconSchema.parse(JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8')));
  return { entries, lexicon };
}

/** Load the content files into PostgreSQL; an entry whose text changed gets a new version. */
export async function seedKnowledge(ds: DataSource, dir = CONTENT_DIR): Promise<{ inserted: number; updated: number }> {
  const { entries } = readContent(dir);
  const repo = ds.getRepository<KnowledgeRow>(KnowledgeEntryEntity);
  const existing = new Map((await repo.find()).map((r) => [r.intent, r]));
  let inserted = 0;
  let updated = 0;
  for (const entry of entries) {
    const old = existing.get(entry.intent);
    if (old && canonical(old.entry) === canonical(entry)) continue;
    await repo.save({
      intent: entry.intent,
      groupName: entry.intent.split('.')[0],
      entry,
      version: (old?.version ?? 0) + 1,
      updatedAt: new Date(),
    });
    if (old) updated++;
    else inserted++;
  }
  return { inserted, updated };
}

/** JSON with sorted keys: jsonb does not keep key order, so plain stringify would see every entry as changed. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

/** Build the retrieval index from what is in the database now. */
export async function loadKnowledgeIndex(ds: DataSource, dir = CONTENT_DIR): Promise<KnowledgeIndex> {
  const rows = await ds.getRepository<KnowledgeRow>(KnowledgeEntryEntity).find({ order: { intent: 'ASC' } });
  const content = readContent(dir);
  const order = new Map(content.entries.map((e, i) => [e.intent, i])); // menu order follows the files
  const entries = rows
    .map((r) => knowledgeEntrySchema.parse(r.entry))
    .sort((a, b) => (order.get(a.intent) ?? 1e9) - (order.get(b.intent) ?? 1e9));
  const version = rows.reduce((v, r) => v + r.version, 0);
  return new KnowledgeIndex(entries, content.lexicon, version);
}
