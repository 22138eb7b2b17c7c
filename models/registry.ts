import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';

// The model registry: versions of each task's ONNX graph + metadata in PostgreSQL, one current per task.
// Publishing stores the bytes themselves, so every worker on any machine loads exactly what was evaluated.

export const MODEL_TASKS = ['intent', 'emotion'] as const;
export type ModelTask = (typeof MODEL_TASKS)[number];
export const ARTIFACTS_DIR = path.join(__dirname, 'artifacts');

export interface PublishedVersion {
  task: ModelTask;
  version: number;
  sha256: string;
  /** false when this exact file was already the current version. */
  published: boolean;
}

/**
 * Publish the artifacts in `dir` as the current version of each task (a no-op for an unchanged file).
 * With `ifUnknown`, a file the registry has ever held is left alone: seeding never undoes a newer publish.
 */
export async function publishArtifacts(
  ds: DataSource,
  dir = ARTIFACTS_DIR,
  { tasks = MODEL_TASKS, ifUnknown = false }: { tasks?: readonly ModelTask[]; ifUnknown?: boolean } = {},
): Promise<PublishedVersion[]> {
  const out: PublishedVersion[] = [];
  for (const task of tasks) {
    const metadata = JSON.parse(readFileSync(path.join(dir, `${task}.json`), 'utf8'));
    const onnx = readFileSync(path.join(dir, path.basename(metadata.onnx.file)));
    const sha256 = createHash('sha256').update(onnx).digest('hex');
    out.push(
      await ds.transaction(async (tx) => {
        await tx.query(`SELECT pg_advisory_xact_lock(hashtext('model_versions:' || $1))`, [task]);
        const [current] = await tx.query(`SELECT version, sha256 FROM model_versions WHERE task = $1 AND is_current`, [task]);
        if (current?.sha256 === sha256) return { task, version: current.version, sha256, published: false };
        if (ifUnknown) {
          const [known] = await tx.query(`SELECT version FROM model_versions WHERE task = $1 AND sha256 = $2`, [task, sha256]);
          if (known) return { task, version: known.version, sha256, published: false };
        }
        const [{ next }] = await tx.query(`SELECT COALESCE(MAX(version), 0) + 1 AS next FROM model_versions WHERE task = $1`, [task]);
        await tx.query(`UPDATE model_versions SET is_current = false WHERE task = $1 AND is_current`, [task]);
        await tx.query(
          `INSERT INTO model_versions (task, version, sha256, onnx, metadata, metrics, is_current) VALUES ($1, $2, $3, $4, $5, $6, true)`,
          [task, next, sha256, onnx, JSON.stringify(metadata), JSON.stringify(metadata.metrics ?? {})],
        );
        return { task, version: next, sha256, published: true };
      }),
    );
  }
  return out;
}

/** The current version of each task, without the bytes: what workers poll. */
export async function currentVersions(ds: DataSource): Promise<Partial<Record<ModelTask, number>>> {
  const rows: Array<{ task: ModelTask; version: number }> = await ds.query(`SELECT task, version FROM model_versions WHERE is_current`);
  return Object.fromEntries(rows.map((r) => [r.task, r.version]));
}

/** Write a version's files into `cacheDir/<task>-v<version>/` and return that folder. */
export async function materialize(ds: DataSource, task: ModelTask, version: number, cacheDir: string): Promise<string> {
  const [row] = await ds.query(`SELECT onnx, metadata FROM model_versions WHERE task = $1 AND version = $2`, [task, version]);
  if (!row) throw new Error(`model ${task} v${version} is not in the registry`);
  const dir = path.join(cacheDir, `${task}-v${version}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, path.basename(row.metadata.onnx.file)), row.onnx);
  writeFileSync(path.join(dir, `${task}.json`), JSON.stringify(row.metadata));
  return dir;
}
