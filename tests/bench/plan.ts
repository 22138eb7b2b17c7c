import { conversationLine, openingLine } from './script';

/** One message a simulated user will send; `messageId` is the client's idempotency key. */
export interface PlannedMessage {
  userId: string;
  messageId: string;
  text: string;
  /** The user's first message: it starts their conversation's workflow (update-with-start). */
  opensConversation: boolean;
}

/**
 * What one simulated client sends, in order, each after the reply to the previous one (plus think time).
 * The load runs all lanes at once, so the number of lanes is the concurrency.
 */
export type Lane = PlannedMessage[];

/** `conversations` users, each sending `turns` messages of the script in one conversation. */
export function conversationLanes(conversations: number, turns: number): Lane[] {
  return Array.from({ length: conversations }, (_, c) => {
    const userId = `bench-${c}`;
    return Array.from({ length: turns }, (_, t) => ({ userId, messageId: `b-${c}-${t}`, text: conversationLine(c, t, userId), opensConversation: t === 0 }));
  });
}

/** `messages` users who each send one question (so each message opens a conversation), over `lanes` clients. */
export function firstTurnLanes(messages: number, lanes: number): Lane[] {
  const out: Lane[] = Array.from({ length: Math.min(lanes, messages) }, () => []);
  for (let i = 0; i < messages; i++) {
    const userId = `first-${i}`;
    out[i % out.length].push({ userId, messageId: `f-${i}`, text: openingLine(i, userId), opensConversation: true });
  }
  return out;
}

/** Every user the lanes speak for, once. */
export const usersOf = (lanes: Lane[]) => [...new Set(lanes.flat().map((m) => m.userId))];
