import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tracked conversion offers, handoff queues, and one event row per kind of thing a turn did. cs_record_turn now also
 * stores the offers its replies carry and writes an event per type (message_received, understood, answered,
 * offer_shown, action_done, handoff_requested, resolved, rejected, closed, …), each keyed by conversation + turn + type.
 */
export class OffersEvents1767225600009 implements MigrationInterface {
  name = 'OffersEvents1767225600009';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE handoffs ADD COLUMN queue varchar(16) NOT NULL DEFAULT 'general'`);
    await q.query(`
      CREATE TABLE offers (
        id varchar(64) PRIMARY KEY,
        conversation_id bigint NOT NULL REFERENCES conversations(id),
        user_id varchar(64) NOT NULL,
        intent varchar(64) NOT NULL,
        product text NOT NULL,
        link text NOT NULL,
        channel varchar(8) NOT NULL,
        tier varchar(16),
        chart_version int,
        shown_at timestamptz NOT NULL DEFAULT now(),
        converted_at timestamptz,
        converted_by varchar(16)
      )`);
    await q.query(`CREATE INDEX offers_user ON offers (user_id, shown_at DESC)`);
    await q.query('DROP FUNCTION cs_record_turn');
    await q.query(`
      CREATE FUNCTION cs_record_turn(
        p_conv bigint, p_message bigint, p_turn int, p_replies jsonb, p_response jsonb, p_event_ids bigint[], p_event jsonb,
        p_state varchar, p_intent varchar, p_handoff varchar, p_tier varchar, p_closed boolean)
      RETURNS jsonb
      LANGUAGE plpgsql AS $$
      DECLARE
        v_user varchar;
        v_channel varchar := p_event->>'channel';
        v_replies jsonb;
        v_response jsonb;
        v_type text;
        v_n int := 1;
      BEGIN
        SELECT user_id INTO v_user FROM conversations WHERE id = p_conv;
        IF NOT FOUND THEN RAISE EXCEPTION 'no conversation %', p_conv; END IF;
        INSERT INTO messages (id, conversation_id, user_id, sender, channel, text, kind, options, seq, turn, reply_to)
        SELECT r.id, p_conv, v_user, r.sender, v_channel, r.text, r.kind, r.options, r.seq, p_turn, p_message
          FROM jsonb_to_recordset(p_replies) AS r(id bigint, seq int, sender varchar, text text, kind varchar, options jsonb)
        ON CONFLICT (conversation_id, seq) WHERE seq IS NOT NULL DO NOTHING;
        INSERT INTO offers (id, conversation_id, user_id, intent, product, link, channel, tier, chart_version)
        SELECT r->'offer'->>'id', p_conv, v_user, COALESCE(p_event->>'topic', p_event->>'intent', ''), r->'offer'->>'product', r->'offer'->>'link',
               v_channel, p_tier, (p_event->>'chartVersion')::int
          FROM jsonb_array_elements(p_replies) r
         WHERE r ? 'offer'
        ON CONFLICT (id) DO NOTHING;
        SELECT COALESCE(jsonb_agg(jsonb_strip_nulls(jsonb_build_object('id', m.id::text, 'text', m.text, 'kind', m.kind, 'options', m.options,
                                  'offer', (SELECT r->'offer' FROM jsonb_array_elements(p_replies) r WHERE (r->>'seq')::int = m.seq)))
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
        -- The turn itself, then one row per thing it did (p_event_ids holds one id for each, in that order).
        FOR v_type IN SELECT 'turn' UNION ALL SELECT jsonb_array_elements_text(COALESCE(p_event->'types', '[]'::jsonb)) LOOP
          INSERT INTO events (id, idempotency_key, type, conversation_id, user_id, channel, tier, intent, emotion, chart_version, payload)
          VALUES (p_event_ids[v_n], CASE WHEN v_type = 'turn' THEN 'turn:' || p_conv || ':' || p_turn ELSE v_type || ':' || p_conv || ':' || p_turn END,
                  v_type, p_conv, v_user, v_channel, p_tier, p_event->>'intent', p_event->>'emotion', (p_event->>'chartVersion')::int,
                  COALESCE(p_event->'payload', '{}'::jsonb) || jsonb_build_object('messageId', p_message::text))
          ON CONFLICT (idempotency_key) DO NOTHING;
          v_n := v_n + 1;
        END LOOP;
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
    throw new Error('OffersEvents cannot be reverted: restore a backup instead');
  }
}
