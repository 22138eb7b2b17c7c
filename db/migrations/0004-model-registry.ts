import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Published model versions; workers load the current one per task and follow changes. */
export class ModelRegistry1767225600004 implements MigrationInterface {
  name = 'ModelRegistry1767225600004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE model_versions (
        task varchar(32) NOT NULL,
        version int NOT NULL,
        sha256 char(64) NOT NULL,
        onnx bytea NOT NULL,
        metadata jsonb NOT NULL,
        metrics jsonb NOT NULL,
        is_current boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (task, version)
      )`);
    await q.query(`CREATE UNIQUE INDEX model_versions_current ON model_versions (task) WHERE is_current`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE model_versions');
  }
}
