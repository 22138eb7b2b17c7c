import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What each worker process serves with — whether its sentence encoder loaded, which model versions it runs —
 * refreshed on every check tick, so /healthz can say that a worker is answering with the n-gram models alone.
 */
export class WorkerStatus1767225600013 implements MigrationInterface {
  name = 'WorkerStatus1767225600013';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE worker_status (
        worker_id text PRIMARY KEY,
        task_queue text NOT NULL,
        started_at timestamptz NOT NULL,
        seen_at timestamptz NOT NULL,
        understanding jsonb NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE worker_status`);
  }
}
