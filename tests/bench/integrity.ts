import type { Client } from '@temporalio/client';
import type { DataSource } from 'typeorm';
import type { TurnResponse } from '../../common/types';
import { viewQuery } from '../../workflows/conversation';
import type { ChannelResult, Timed } from './load';
import { workflowIdOf } from '../../server/conversation-gateway';

/**
 * Lost and duplicated messages, counted from what the load generator sent and what is stored (plus each
 * conversation workflow's own turn count). Every count here can be non-zero when the system misbehaves;
 * none is implied by a constraint of the schema.
 */
export interface IntegrityCounts {
  lost: {
    /** No 200 from the API, after retrying what it called retryable. */
    notAnswered: number;
    /** No user row with the sender's (userId, messageId). */
    notStored: number;
    /** Stored, but the channel response was never recorded on it. */
    noStoredResponse: number;
    /** The replies the user was sent (or, without a 200, the stored response's) are not all stored as rows answering it — or there are none. */
    repliesNotStored: number;
    /** The 200 body belongs to another message (its messageId is not the one sent). */
    otherMessagesAnswer: number;
    /** Conversations whose workflow processed fewer user messages than are stored in them. */
    conversationsWithUnprocessedMessages: number;
  };
  duplicated: {
    /** User messages with more than one 'turn' event. */
    answeredTwiceByEvents: number;
    /** User messages with bot replies from more than one turn. */
    answeredTwiceByReplies: number;
    /** Extra copies of a reply: same (conversation, reply_to, text) under different seq. */
    replyStoredTwice: number;
    /** Turns a conversation workflow processed beyond the user messages stored in its conversation. */
    workflowTurnsBeyondStoredMessages: number;
  };
}

interface StoredUserMessage {
  user_id: string;
  client_message_id: string;
  id: string | null;
  response: TurnResponse | null;
}

export async function checkStoredData(ds: DataSource, client: Client, sent: Timed<ChannelResult>[]): Promise<IntegrityCounts> {
  const users = [...new Set(sent.map((s) => s.msg.userId))];
  const stored = await storedUserMessages(ds, sent);
  const storedReplies = await storedReplyKeys(ds, users);
  const turns = await workflowTurnsVsStoredMessages(ds, client, users);

  const lost = { notAnswered: 0, notStored: 0, noStoredResponse: 0, repliesNotStored: 0, otherMessagesAnswer: 0, conversationsWithUnprocessedMessages: turns.fewer };
  for (const { msg, result } of sent) {
    if (result.status !== 200) lost.notAnswered++;
    if (result.body && result.body.messageId !== msg.messageId) lost.otherMessagesAnswer++;
    const row = stored.get(`${msg.userId}\u0000${msg.messageId}`);
    if (!row?.id) {
      lost.notStored++;
      continue;
    }
    if (!row.response) lost.noStoredResponse++;
    const replies = (result.body ?? row.response)?.replies ?? [];
    if (replies.length === 0 || replies.some((r) => !storedReplies.has(`${row.id}:${r.id}`))) lost.repliesNotStored++;
  }

  return {
    lost,
    duplicated: {
      ...(await duplicatedInStore(ds, users)),
      workflowTurnsBeyondStoredMessages: turns.excess,
    },
  };
}

/** The stored user row (if any) of every sent message, by (userId, messageId). */
async function storedUserMessages(ds: DataSource, sent: Timed<ChannelResult>[]): Promise<Map<string, StoredUserMessage>> {
  const rows: StoredUserMessage[] = await ds.query(
    `SELECT s.user_id, s.client_message_id, m.id::text AS id, m.response
       FROM unnest($1::text[], $2::text[]) AS s(user_id, client_message_id)
       LEFT JOIN messages m ON m.user_id = s.user_id AND m.client_message_id = s.client_message_id AND m.sender = 'user'`,
    [sent.map((s) => s.msg.userId), sent.map((s) => s.msg.messageId)],
  );
  return new Map(rows.map((r) => [`${r.user_id}\u0000${r.client_message_id}`, r]));
}

/** "<user message id>:<reply id>" for every stored row that answers a user message of these users. */
async function storedReplyKeys(ds: DataSource, users: string[]): Promise<Set<string>> {
  const rows: Array<{ key: string }> = await ds.query(
    `SELECT reply_to::text || ':' || id::text AS key FROM messages WHERE user_id = ANY($1) AND sender <> 'user' AND reply_to IS NOT NULL`,
    [users],
  );
  return new Set(rows.map((r) => r.key));
}

async function duplicatedInStore(ds: DataSource, users: string[]) {
  const [counts] = await ds.query(
    `SELECT
       (SELECT count(*) FROM (SELECT 1 FROM events
          WHERE type = 'turn' AND user_id = ANY($1) AND payload->>'messageId' IS NOT NULL
          GROUP BY payload->>'messageId' HAVING count(*) > 1) d)::int AS "answeredTwiceByEvents",
       (SELECT count(*) FROM (SELECT 1 FROM messages
          WHERE user_id = ANY($1) AND sender <> 'user' AND reply_to IS NOT NULL
          GROUP BY reply_to HAVING count(DISTINCT turn) > 1) d)::int AS "answeredTwiceByReplies",
       (SELECT COALESCE(sum(copies - 1), 0) FROM (SELECT count(DISTINCT seq) AS copies FROM messages
          WHERE user_id = ANY($1) AND sender <> 'user' AND reply_to IS NOT NULL
          GROUP BY conversation_id, reply_to, text HAVING count(DISTINCT seq) > 1) d)::int AS "replyStoredTwice"`,
    [users],
  );
  return counts as { answeredTwiceByEvents: number; answeredTwiceByReplies: number; replyStoredTwice: number };
}


/** How many conversations the workflows are queried at a time. */
const QUERY_CONCURRENCY = 10;

/**
 * Each conversation workflow's processed-message count (`view.turns`) against the user messages stored in
 * that conversation: more turns than messages is a message processed twice; fewer, a stored message the
 * workflow never processed.
 */
async function workflowTurnsVsStoredMessages(ds: DataSource, client: Client, users: string[]): Promise<{ excess: number; fewer: number }> {
  const conversations: Array<{ id: string; messages: number }> = await ds.query(
    `SELECT conversation_id::text AS id, count(*)::int AS messages FROM messages
      WHERE user_id = ANY($1) AND sender = 'user' GROUP BY conversation_id`,
    [users],
  );
  let excess = 0;
  let fewer = 0;
  for (let i = 0; i < conversations.length; i += QUERY_CONCURRENCY) {
    await Promise.all(
      conversations.slice(i, i + QUERY_CONCURRENCY).map(async (c) => {
        const view = await client.workflow.getHandle(workflowIdOf(c.id)).query(viewQuery);
        excess += Math.max(0, view.turns - c.messages);
        if (view.turns < c.messages) fewer++;
      }),
    );
  }
  return { excess, fewer };
}
