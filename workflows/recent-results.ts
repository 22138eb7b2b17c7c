import type { TurnResponse } from '../common/types';

/** Retries of a message that crossed a continue-as-new are answered from this many recent results. */
const RECENT_RESULTS = 32;

/** The last results by messageId, carried across continue-as-new (Temporal deduplicates updates only within a run). */
export class RecentResults {
  private readonly byMessage: Map<string, TurnResponse>;

  constructor(carried: Array<[string, TurnResponse]> = []) {
    this.byMessage = new Map(carried);
  }

  get(messageId: string): TurnResponse | undefined {
    return this.byMessage.get(messageId);
  }

  add(messageId: string, response: TurnResponse): void {
    this.byMessage.set(messageId, response);
    if (this.byMessage.size > RECENT_RESULTS) this.byMessage.delete(this.byMessage.keys().next().value!);
  }

  toCarry(): Array<[string, TurnResponse]> {
    return [...this.byMessage];
  }
}
