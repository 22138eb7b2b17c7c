import type { Reply } from '../common/types';
import type { LookupOrderInput, OrderLookup, RequestHandoffInput, UnderstandInput, Understanding } from '../machines/types';

/** The activity interface the workflow proxies; implementations live in this folder. */
export interface ConversationActivities {
  understand(input: UnderstandInput): Promise<Understanding>;
  lookupOrder(input: LookupOrderInput): Promise<OrderLookup>;
  requestHandoff(input: RequestHandoffInput): Promise<{ ticketId: string; status: 'queued' }>;
  closeConversation(input: { conversationId: string; reason: 'goodbye' | 'inactivity'; replies: Reply[] }): Promise<void>;
}
