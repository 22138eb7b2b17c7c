import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One owner for conversation data (db/conversation-store.ts calls these functions and nothing else writes
 * the tables), the chart registry, the append-only event log and push notification of new messages.
 *
 * - Messages the user can see that the workflow produces (bot replies, timer-driven notes, later agent
 *   messages) carry `seq`, an order the workflow assigns per conversation; (conversation, seq) is their
 *   idempotency key, so a retried activity never stores a reply twice. A turn that really ran twice
 *   gets new seqs, so it stays visible in the data (`reply_to` + `turn`) instead of being hidden.
 * - Every insert into `messages` notifies channel `cs_messages` with the conversation id: the SSE stream
 *   is pushed, not polled.
 */
export class ConversationOwner1767225600005 implements MigrationInterface {
  name = 'ConversationOwner1767225600005';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE chart_versions (
        version serial PRIMARY KEY,
        chart jsonb NOT NULL,
        checksum char(64) NOT NULL UNIQUE,
        author varchar(64) NOT NULL,
        note text,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz
      )`);
    await q.query(`CREATE INDEX chart_versions_published ON chart_versions (published_at DESC) WHERE published_at IS NOT NULL`);

    await q.query(`
      CREATE TABLE events (
        id bigint PRIMARY KEY,
        idempotency_key varchar(160) NOT NULL UNIQUE,
        type varchar(32) NOT NULL,
        conversation_id bigint,
        user_id varchar(64),
        channel varchar(8),
        tier varchar(16),
        intent varchar(64),
        emotion varchar(16),
        chart_version int,
        payload jsonb NOT NULL DEFAULT '{}',
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX events_type_at ON events (type, at)`);
    await q.query(`CREATE INDEX events_conversation ON events (conversation_id, at)`);

    await q.query(`ALTER TABLE conversations ADD COLUMN chart_version int, ADD COLUMN workflow_started boolean NOT NULL DEFAULT false,
                   ALTER COLUMN user_tier DROP NOT NULL`);
    // The state a conversation has before its workflow recorded anything.
    await q.query(`UPDATE conversations SET workflow_started = true WHERE state <> 'greeting'`);
    await q.query(`ALTER TABLE messages ALTER COLUMN sender TYPE varchar(8), ADD COLUMN seq int, ADD COLUMN turn int, ADD COLUMN reply_to bigint`);
    await q.query(`CREATE UNIQUE INDEX messages_seq ON messages (conversation_id, seq) WHERE seq IS NOT NULL`);

    await q.query(`
      CREATE FUNCTION cs_notify_message() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('cs_messages', NEW.conversation_id::text);
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER messages_notify AFTER INSERT OR UPDATE OF conversation_id ON messages
                   FOR EACH ROW EXECUTE FUNCTION cs_notify_message()`);

    await q.query('DROP FUNCTION cs_record_turn, cs_accept_message');

    // Store a user message idempotently in the right conversation. A new conversation pins the latest
    // published chart version. status: 'stored' (new), 'retry' (seen before), 'not_found'.
    await q.query(`
      CREATE FUNCTION cs_accept_message(
        p_user varchar, p_channel varchar, p_client_id varchar, p_conversation bigint,
        p_text text, p_new_conversation bigint, p_message bigint)
      RETURNS TABLE (status text, message_id bigint, conversation_id bigint, response jsonb, started boolean, chart_version int)
      LANGUAGE plpgsql AS $$
      #variable_conflict use_column
      DECLARE
        v_conv bigint;
        v_msg bigint;
        v_owner varchar;
        v_status varchar;
      BEGIN
        IF p_client_id IS NOT NULL THEN
          SELECT m.id INTO v_msg FROM messages m WHERE m.user_id = p_user AND m.client_message_id = p_client_id;
          IF FOUND THEN
            RETURN QUERY SELECT 'retry', m.id, m.conversation_id, m.response, c.workflow_started, c.chart_version
              FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.id = v_msg;
            RETURN;
          END IF;
        END IF;
        IF p_conversation IS NOT NULL THEN
          SELECT c.user_id, c.status INTO v_owner, v_status FROM conversations c WHERE c.id = p_conversation;
          IF NOT FOUND OR v_owner <> p_user THEN
            RETURN QUERY SELECT 'not_found', NULL::bigint, NULL::bigint, NULL::jsonb, NULL::boolean, NULL::int;
            RETURN;
          END IF;
          IF v_status = 'open' THEN v_conv := p_conversation; END IF;
        END IF;
        IF v_conv IS NULL THEN
          -- One open conversation per user (partial unique index): concurrent first messages meet here.
          INSERT INTO conversations (id, user_id, status, state, channels, chart_version)
          SELECT p_new_conversation, p_user, 'open', 'new', jsonb_build_array(p_channel),
                 (SELECT cv.version FROM chart_versions cv WHERE cv.published_at IS NOT NULL ORDER BY cv.published_at DESC, cv.version DESC LIMIT 1)
          ON CONFLICT (user_id) WHERE status = 'open' DO NOTHING;
          SELECT c.id INTO v_conv FROM conversations c WHERE c.user_id = p_user AND c.status = 'open';
        END IF;
        INSERT INTO messages (id, conversation_id, user_id, sender, channel, client_message_id, text)
        VALUES (p_message, v_conv, p_user, 'user', p_channel, p_client_id, p_text)
        ON CONFLICT (user_id, client_message_id) WHERE client_message_id IS NOT NULL DO NOTHING;
        IF NOT FOUND THEN -- a concurrent retry stored it first
          RETURN QUERY SELECT 'retry', m.id, m.conversation_id, m.response, c.workflow_started, c.chart_version
            FROM messages m JOIN conversations c ON c.id = m.conversation_id
           WHERE m.user_id = p_user AND m.client_message_id = p_client_id;
          RETURN;
        END IF;
        UPDATE conversations c SET channels = c.channels || jsonb_build_array(p_channel), updated_at = now()
         WHERE c.id = v_conv AND NOT c.channels ? p_channel;
        RETURN QUERY SELECT 'stored', p_message, v_conv, NULL::jsonb, c.workflow_started, c.chart_version FROM conversations c WHERE c.id = v_conv;
      END $$`);

    // Record what one turn of the workflow produced: its replies (keyed by seq), the response on the user's
    // message (first answer wins), one 'turn' event and the conversation's state. Returns the response as
    // stored, with the stored reply ids, so the channel sees exactly the rows GET …/messages serves.
    await q.query(`
      CREATE FUNCTION cs_record_turn(
        p_conv bigint, p_message bigint, p_turn int, p_replies jsonb, p_response jsonb, p_event_id bigint, p_event jsonb,
        p_state varchar, p_intent varchar, p_handoff varchar, p_tier varchar, p_closed boolean)
      RETURNS jsonb
      LANGUAGE plpgsql AS $$
      DECLARE
        v_user varchar;
        v_channel varchar := p_event->>'channel';
        v_replies jsonb;
        v_response jsonb;
      BEGIN
        SELECT user_id INTO v_user FROM conversations WHERE id = p_conv;
        IF NOT FOUND THEN RAISE EXCEPTION 'no conversation %', p_conv; END IF;
        INSERT INTO messages (id, conversation_id, user_id, sender, channel, text, kind, options, seq, turn, reply_to)
        SELECT r.id, p_conv, v_user, r.sender, v_channel, r.text, r.kind, r.options, r.seq, p_turn, p_message
          FROM jsonb_to_recordset(p_replies) AS r(id bigint, seq int, sender varchar, text text, kind varchar, options jsonb)
        ON CONFLICT (conversation_id, seq) WHERE seq IS NOT NULL DO NOTHING;
        SELECT COALESCE(jsonb_agg(jsonb_strip_nulls(jsonb_build_object('id', m.id::text, 'text', m.text, 'kind', m.kind, 'options', m.options))
                                  ORDER BY m.seq), '[]'::jsonb)
          INTO v_replies
          FROM messages m
         WHERE m.conversation_id = p_conv AND m.seq IN (SELECT (r->>'seq')::int FROM jsonb_array_elements(p_replies) r);
        v_response := p_response || jsonb_build_object('replies', v_replies);
        IF p_message IS NOT NULL THEN
          UPDATE messages SET response = v_response, turn = p_turn WHERE id = p_message AND response IS NULL;
          IF NOT FOUND THEN
            SELECT response INTO v_response FROM messages WHERE id = p_message;
          END IF;
        END IF;
        INSERT INTO events (id, idempotency_key, type, conversation_id, user_id, channel, tier, intent, emotion, chart_version, payload)
        VALUES (p_event_id, 'turn:' || p_conv || ':' || p_turn, 'turn', p_conv, v_user, v_channel, p_tier, p_event->>'intent',
                p_event->>'emotion', (p_event->>'chartVersion')::int, p_event->'payload' || jsonb_build_object('messageId', p_message::text))
        ON CONFLICT (idempotency_key) DO NOTHING;
        UPDATE conversations SET state = p_state, last_intent = COALESCE(p_intent, last_intent),
               handoff_status = COALESCE(p_handoff, handoff_status), user_tier = COALESCE(p_tier, user_tier),
               workflow_started = true, updated_at = now(),
               channels = CASE WHEN channels ? v_channel THEN channels ELSE channels || jsonb_build_array(v_channel) END,
               status = CASE WHEN p_closed THEN 'closed' ELSE status END,
               closed_at = CASE WHEN p_closed THEN COALESCE(closed_at, now()) ELSE closed_at END
         WHERE id = p_conv;
        RETURN v_response;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    throw new Error('ConversationOwner cannot be reverted: restore a backup instead');
  }
}
