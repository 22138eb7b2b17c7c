import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1767225600001 implements MigrationInterface {
  name = 'Initial1767225600001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE conversations (
        id bigint PRIMARY KEY,
        user_id varchar(64) NOT NULL,
        status varchar(16) NOT NULL,
        state varchar(128) NOT NULL,
        channels jsonb NOT NULL,
        user_tier varchar(16) NOT NULL,
        last_intent varchar(64),
        handoff_status varchar(16),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        closed_at timestamptz
      )`);
    // At most one open conversation per user: concurrent first messages race into the same one.
    await q.query(`CREATE UNIQUE INDEX conversations_one_open ON conversations (user_id) WHERE status = 'open'`);
    await q.query(`CREATE INDEX conversations_user ON conversations (user_id, id DESC)`);
    await q.query(`
      CREATE TABLE messages (
        id bigint PRIMARY KEY,
        conversation_id bigint NOT NULL REFERENCES conversations(id),
        user_id varchar(64) NOT NULL,
        sender varchar(8) NOT NULL,
        channel varchar(8) NOT NULL,
        client_message_id varchar(128),
        text text NOT NULL,
        kind varchar(16),
        options jsonb,
        response jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX messages_conversation ON messages (conversation_id, id)`);
    // The idempotency key: one stored message per (user, client messageId).
    await q.query(
      `CREATE UNIQUE INDEX messages_client_id ON messages (user_id, client_message_id) WHERE client_message_id IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE knowledge_entries (
        intent varchar(64) PRIMARY KEY,
        group_name varchar(32) NOT NULL,
        entry jsonb NOT NULL,
        version int NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE handoffs (
        id bigint PRIMARY KEY,
        conversation_id bigint NOT NULL REFERENCES conversations(id),
        status varchar(16) NOT NULL,
        reason text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // One open handoff per conversation: a retried activity finds the existing one.
    await q.query(`CREATE UNIQUE INDEX handoffs_one_open ON handoffs (conversation_id) WHERE status <> 'closed'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE handoffs, knowledge_entries, messages, conversations`);
  }
}
