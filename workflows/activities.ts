import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { ConversationActivities } from '../activities/types';
import type { ActorSrc } from '../machines/conversation';
import type { ActorOutcome, Invocation } from '../machines/interpret';
import { CHART_LOADING, CLOSING, CUSTOMER_LOOKUP, PLATFORM_CALLS, RECORDING, UNDERSTANDING } from './activity-options';

// The conversation's activities, with the options of workflows/activity-options.ts.

const { understand } = proxyLocalActivities<ConversationActivities>(UNDERSTANDING);
export const { loadChart } = proxyLocalActivities<ConversationActivities>(CHART_LOADING);
export const { recordTurn } = proxyLocalActivities<ConversationActivities>(RECORDING);
// The tier is one indexed read: as a local activity it joins the chart load in the first workflow task instead of
// costing a second one before the first reply (histories from before use the regular activity).
export const { lookupCustomer: lookupCustomerLocally } = proxyLocalActivities<ConversationActivities>(CUSTOMER_LOOKUP);
const platform = proxyActivities<ConversationActivities>(PLATFORM_CALLS);
export const { lookupCustomer } = platform;
export const { closeConversation } = proxyActivities<ConversationActivities>(CLOSING);

type InputOf<S extends ActorSrc> = Extract<Invocation, { src: S }>['input'];

/** The activity behind each actor a chart may invoke (the compiler checks each one takes that actor's input). */
const ACTIVITY_OF: { [S in ActorSrc]: (input: InputOf<S>) => Promise<unknown> } = {
  understand,
  lookupOrder: platform.lookupOrder,
  findOrders: platform.findOrders,
  lookupAccount: platform.lookupAccount,
  verifyIdentity: platform.verifyIdentity,
  performAction: platform.performAction,
  issueCoupon: platform.issueCoupon,
  requestHandoff: platform.requestHandoff,
};

/** Run one chart actor as its activity; any failure becomes the chart's error event. */
export async function runActor(inv: Invocation): Promise<ActorOutcome> {
  // `inv.src` and `inv.input` belong together (Invocation is a union by src); TypeScript cannot follow that pairing
  // through the index, hence the widening here.
  const activity = ACTIVITY_OF[inv.src] as (input: Invocation['input']) => Promise<unknown>;
  try {
    return { ok: true, output: await activity(inv.input) };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}
