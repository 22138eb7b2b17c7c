import type { TurnRecord, TurnResponse } from '../common/types';
import type { AccountLookup, ActionResult, CouponOutcome, IssueCouponInput, PerformActionInput, LookupOrderInput, OrderLookup, OrderSearch, RequestHandoffInput, UnderstandInput, Understanding, UserInput, Verification, VerifyIdentityInput } from '../machines/types';
import type { ChartDefinition } from '../machines/validate';
import type { TierRecomputeInput, TierRecomputeResult } from './rfm';

/** The activity interface the workflow proxies; implementations live in this folder. */
export interface ConversationActivities {
  loadChart(input: { version: number }): Promise<{ version: number; definition: ChartDefinition }>;
  lookupCustomer(input: { userId: string }): Promise<{ tier: string }>;
  understand(input: UnderstandInput): Promise<Understanding>;
  lookupOrder(input: LookupOrderInput): Promise<OrderLookup>;
  findOrders(input: UserInput): Promise<OrderSearch>;
  lookupAccount(input: UserInput): Promise<AccountLookup>;
  verifyIdentity(input: VerifyIdentityInput): Promise<Verification>;
  performAction(input: PerformActionInput): Promise<ActionResult>;
  issueCoupon(input: IssueCouponInput): Promise<CouponOutcome>;
  requestHandoff(input: RequestHandoffInput): Promise<{ ticketId: string; status: 'queued'; queue?: string }>;
  recordTurn(record: TurnRecord): Promise<TurnResponse>;
  closeConversation(input: { conversationId: string; reason: 'goodbye' | 'inactivity' }): Promise<void>;
  /** Run by the recomputeTiers workflow (daily schedule or admin), not by conversations. */
  computeRfmTiers(input: TierRecomputeInput): Promise<TierRecomputeResult>;
}
