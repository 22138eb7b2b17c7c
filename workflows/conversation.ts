import { allHandlersFinished, condition, continueAsNew, defineQuery, defineUpdate, setHandler } from '@temporalio/workflow';
import type { ConversationInput, ConversationView, InboundMessage, TurnResponse } from '../common/types';
import { ConversationState } from './conversation-state';

export { CONVERSATION_CLOSED } from './conversation-state';

/** A user message; the update's result is the channel's reply, as stored. updateId = "msg-<stored message id>". */
export const messageUpdate = defineUpdate<TurnResponse, [InboundMessage]>('message');
/** Where the conversation stands: state, chart version, tier, turns, handoff. */
export const viewQuery = defineQuery<ConversationView>('view');

/** One conversation: the durable interpreter of its pinned chart version. */
export async function conversation(input: ConversationInput): Promise<void> {
  const state = new ConversationState(input);
  state.begin();
  setHandler(messageUpdate, (msg) => state.handleMessage(msg), { validator: (msg) => state.validateMessage(msg) });
  setHandler(viewQuery, () => state.view());
  state.announce();

  const { inactivityMs, turnsPerRun } = input.settings;
  let reason: 'goodbye' | 'inactivity' = 'goodbye';
  // One inactivity timer that is re-armed only when it fires early, not a new timer per turn.
  while (!state.finished) {
    const idleFor = state.idleFor();
    if (idleFor >= inactivityMs) {
      reason = 'inactivity';
      await state.timeOut();
      break;
    }
    const woke = await condition(() => state.finished || state.shouldContinueAsNew(turnsPerRun), inactivityMs - idleFor);
    if (woke && !state.finished) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof conversation>(state.continueAsNewInput());
    }
  }
  await condition(allHandlersFinished);
  await state.close(reason);
}
