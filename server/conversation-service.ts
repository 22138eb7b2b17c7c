import type { Channel, TurnResponse } from '../common/types';
import type { Contact, PlatformAdapter } from '../activities/platform-adapter';
import { ConversationNotFound, type AcceptedMessage, type ConversationStore } from '../db/conversation-store';
import type { IdentityStore } from '../db/identity-store';
import { ApiError } from './errors';
import { ConversationClosedError, ReplyTimeoutError, type ConversationGateway } from './conversation-gateway';
import type { InboundBody } from './validation';

/**
 * The channel message flow: store the message first (so an accepted message is never lost), then run the
 * turn in the conversation's workflow, which records its replies through the same store before it answers.
 * The API writes nothing else: the response it sends is the one stored on the message.
 */
export class ConversationService {
  constructor(
    private readonly store: ConversationStore,
    private readonly gateway: ConversationGateway,
    private readonly identities: IdentityStore,
    private readonly platform: PlatformAdapter,
  ) {}

  async handle(channel: Channel, body: InboundBody): Promise<TurnResponse> {
    const userId = await this.userOf(body);
    const stored = await this.accept(channel, body, userId);
    if (stored.response) return stored.response; // a retry of an answered message
    return this.answer(channel, body, userId, stored, true);
  }

  /** The person behind the message: the given userId, else who the channel's contact (caller, sender) belongs to. */
  private async userOf(body: InboundBody): Promise<string> {
    if (body.userId) return body.userId;
    const contact: Contact | null = body.callerId
      ? { kind: 'phone', value: body.callerId }
      : body.from
        ? { kind: 'email', value: body.from }
        : null;
    if (!contact) throw new ApiError(400, 'invalid_request', 'a message needs userId, or callerId (phone) / from (email)');
    return this.identities.resolve(contact, (c) => this.platform.findUserByContact(c));
  }

  private async accept(channel: Channel, body: InboundBody, userId: string): Promise<AcceptedMessage> {
    try {
      return await this.store.acceptUserMessage({
        userId,
        channel,
        clientMessageId: body.messageId ?? null,
        conversationId: body.conversationId ?? null,
        text: body.text ?? (body.dtmf ? `[按键] ${body.dtmf}` : '[图片]'),
      });
    } catch (err) {
      if (err instanceof ConversationNotFound) throw new ApiError(404, 'conversation_not_found', err.message);
      throw err;
    }
  }

  private async answer(channel: Channel, body: InboundBody, userId: string, stored: AcceptedMessage, mayMove: boolean): Promise<TurnResponse> {
    // A running conversation needs no version (it has its own); a new one takes the latest published chart.
    const chartVersion = stored.chartVersion ?? (stored.started ? null : await this.store.pinLatestChart(stored.conversationId));
    if (chartVersion === null && !stored.started) {
      throw new ApiError(503, 'chart_unavailable', 'no dialogue chart is published; the message is stored, retry with the same messageId', 5);
    }
    try {
      return await this.gateway.deliver(
        { id: stored.conversationId, userId, channel, chartVersion, started: stored.started },
        {
          messageId: stored.messageId,
          ...(body.messageId ? { clientMessageId: body.messageId } : {}),
          channel,
          text: body.text,
          dtmf: body.dtmf,
          hasImage: !!body.image,
        },
      );
    } catch (err) {
      if (err instanceof ConversationClosedError && mayMove) {
        const moved = await this.store.moveToOpenConversation(stored.messageId, userId, channel, stored.conversationId);
        return this.answer(channel, body, userId, moved, false);
      }
      if (err instanceof ReplyTimeoutError) {
        throw new ApiError(503, 'reply_timeout', 'the message is stored; retry with the same messageId for the reply', 2);
      }
      throw err;
    }
  }
}
