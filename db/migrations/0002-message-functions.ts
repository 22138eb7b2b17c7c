import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The channel API's two writes per message as database functions: one round trip each, atomic.
 * (Syscalls are the API's main cost on small machines; eleven statements per message became two.)
 */
export class MessageFunctions1767225600002 implements MigrationInterface {
  name = 'MessageFunctions1767225600002';

  async up(q: QueryRunner): Promise<void> {
    // Store a user message idempotently in the right conversation; returns the stored row.
    // status: 'stored' (new), 'retry' (seen before), 'not_found' (conversation unknown or not the user's).
    await q.query(`
      CREATE FUNCTION cs_accept_message(
        p_user varchar, p_channel varchar, p_client_id varchar, p_conversation bigint,
        p_text text, p_new_conversation bigint, p_message bigint, p_tier varchar)
      RETURNS TABLE (status text, message_id bigint, conversation_id bigint, response jsonb, user_tier varchar, state varchar)
      LANGUAGE plpgsql AS $$
      #variable_conflict use_column
      DECLARE
        v_conv bigint;
        v_msg bigint;
        v_owner varchar;
        v_status varchar;
      BEGIN
        IF p_client_id IS NOT NULL THEN
          SELECT m.id, m.conversation_id INTO v_msg, v_conv FROM messages m
           WHERE m.user_id = p_user AND m.client_message_id = p_client_id;
          IF FOUND THEN
            RETURN QUERY SELECT 'retry', m.id, m.conversation_id, m.response, c.user_tier, c.state
              FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.id = v_msg;
            RETURN;
          END IF;
        END IF;
        IF p_conversation IS NOT NULL THEN
          SELECT c.user_id, c.status INTO v_owner, v_status FROM conversations c WHERE c.id = p_conversation;
          IF NOT FOUND OR v_owner <> p_user THEN
            RETURN QUERY SELECT 'not_found', NULL::bigint, NULL::bigint, NULL::jsonb, NULL::varchar, NULL::varchar;
            RETURN;
          END IF;
          IF v_status = 'open' THEN v_conv := p_conversation; END IF;
        END IF;
        IF v_conv IS NULL THEN
          -- One open conversation per user (partial unique index): concurrent first messages meet here.
          INSERT INTO conversations (id, user_id, status, state, channels, user_tier)
          VALUES (p_new_conversation, p_user, 'open', 'greeting', jsonb_build_array(p_channel), p_tier)
          ON CONFLICT (user_id) WHERE status = 'open' DO NOTHING;
          SELECT c.id INTO v_conv FROM conversations c WHERE c.user_id = p_user AND c.status = 'open';
        END IF;
        INSERT INTO messages (id, conversation_id, user_id, sender, channel, client_message_id, text)
        VALUES (p_message, v_conv, p_user, 'user', p_channel, p_client_id, p_text)
        ON CONFLICT (user_id, client_message_id) WHERE client_message_id IS NOT NULL DO NOTHING;
        IF NOT FOUND THEN -- a concurrent retry stored it first
          RETURN QUERY SELECT 'retry', m.id, m.conversation_id, m.response, c.user_tier, c.state
            FROM messages m JOIN conversations c ON c.id = m.conversation_id
           WHERE m.user_id = p_user AND m.client_message_id = p_client_id;
          RETURN;
        END IF;
        UPDATE conversations c SET channels = c.channels || jsonb_build_array(p_channel), updated_at = now()
         WHERE c.id = v_conv AND NOT c.channels ? p_channel;
        RETURN QUERY SELECT 'stored', p_message, v_conv, NULL::jsonb, c.user_tier, c.state FROM conversations c WHERE c.id = v_conv;
      END $$`);

    // Record a turn's outcome once: the response on the user's message, the bot replies, the conversation's state.
    await q.query(`
      CREATE FUNCTION cs_record_turn(
        p_message bigint, p_response jsonb, p_replies jsonb, p_state varchar,
        p_intent varchar, p_handoff varchar, p_closed boolean)
      RETURNS boolean
      LANGUAGE plpgsql AS $$
      DECLARE
        v_conv bigint;
        v_user varchar;
        v_channel varchar;
      BEGIN
        UPDATE messages SET response = p_response WHERE id = p_message AND response IS NULL
        RETURNING conversation_id, user_id, channel INTO v_conv, v_user, v_channel;
        IF NOT FOUND THEN RETURN false; END IF; -- a concurrent retry recorded it
        INSERT INTO messages (id, conversation_id, user_id, sender, channel, text, kind, options)
        SELECT r.id, v_conv, v_user, 'bot', v_channel, r.text, r.kind, r.options
          FROM jsonb_to_recordset(p_replies) AS r(id bigint, text text, kind varchar, options jsonb);
        UPDATE conversations SET state = p_state, last_intent = COALESCE(p_intent, last_intent),
               handoff_status = COALESCE(p_handoff, handoff_status), updated_at = now(),
               status = CASE WHEN p_closed THEN 'closed' ELSE status END,
               closed_at = CASE WHEN p_closed THEN COALESCE(closed_at, now()) ELSE closed_at END
         WHERE id = v_conv;
        RETURN true;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION cs_record_turn, cs_accept_message');
  }
}
