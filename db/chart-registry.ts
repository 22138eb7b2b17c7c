import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { validateChart, type ChartDefinition } from '../machines/validate';

// The chart registry: versions of the dialogue chart as data in PostgreSQL. A conversation pins the latest
// published version when it is created and runs on it to the end; publishing never changes a running one.

export const COMMITTED_CHART = path.join(__dirname, '../machines/charts/conversation.chart.json');

export interface ChartVersionRow {
  version: number;
  checksum: string;
  author: string;
  note: string | null;
  createdAt: string;
  publishedAt: string | null;
}

/** JSON with object keys sorted, so a chart's checksum does not depend on key order (jsonb reorders keys). */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const chartChecksum = (definition: unknown) => createHash('sha256').update(canonical(definition)).digest('hex');

export class ChartRejectedError extends Error {
  constructor(readonly errors: string[]) {
    super(`chart refused: ${errors.join('; ')}`);
  }
}

/**
 * Store a chart (validated first; an invalid one is refused) and publish it: new conversations start on it.
 * A chart already stored is published again (e.g. a rollback). With `ifUnknown`, a chart the registry has
 * ever held is left alone, so seeding at start never undoes a designer's later publish.
 */
export async function publishChart(
  ds: DataSource,
  raw: unknown,
  opts: { author: string; note?: string; ifUnknown?: boolean },
): Promise<{ version: number; published: boolean }> {
  const result = validateChart(raw);
  if (!result.ok) throw new ChartRejectedError(result.errors);
  const checksum = chartChecksum(result.chart);
  return ds.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('chart_versions'))`);
    const [known] = await tx.query(`SELECT version FROM chart_versions WHERE checksum = $1`, [checksum]);
    if (known && opts.ifUnknown) return { version: known.version, published: false };
    const version: number =
      known?.version ??
      (
        await tx.query(`INSERT INTO chart_versions (chart, checksum, author, note) VALUES ($1, $2, $3, $4) RETURNING version`, [
          JSON.stringify(result.chart),
          checksum,
          opts.author,
          opts.note ?? null,
        ])
      )[0].version;
    await tx.query(`UPDATE chart_versions SET published_at = now() WHERE version = $1`, [version]);
    return { version, published: true };
  });
}

/** Publish the committed chart file unless the registry has seen it (what `npm start` and test seeding do). */
export function publishCommittedChart(ds: DataSource) {
  return publishChart(ds, JSON.parse(readFileSync(COMMITTED_CHART, 'utf8')), {
    author: 'repository',
    note: 'machines/charts/conversation.chart.json',
    ifUnknown: true,
  });
}

/** One stored version's definition (validated when it was stored), or null when there is no such version. */
export async function loadChartDefinition(ds: DataSource, version: number): Promise<ChartDefinition | null> {
  const [row] = await ds.query(`SELECT chart FROM chart_versions WHERE version = $1`, [version]);
  return row?.chart ?? null;
}

export async function listChartVersions(ds: DataSource): Promise<ChartVersionRow[]> {
  const rows = await ds.query(
    `SELECT version, checksum, author, note, created_at, published_at FROM chart_versions ORDER BY version DESC`,
  );
  return rows.map((r: Record<string, unknown>) => ({
    version: Number(r.version),
    checksum: String(r.checksum),
    author: String(r.author),
    note: (r.note as string | null) ?? null,
    createdAt: new Date(r.created_at as string).toISOString(),
    publishedAt: r.published_at ? new Date(r.published_at as string).toISOString() : null,
  }));
}
