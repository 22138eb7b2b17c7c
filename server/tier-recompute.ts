import { randomUUID } from 'node:crypto';
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { TierRecomputeResult } from '../activities/rfm';
import { recomputeTiers } from '../workflows/rfm';

// The client side of the RFM tier recompute (workflows/rfm.ts): a daily Temporal Schedule, and runs on demand from
// the admin API. Both start the same workflow on the conversation task queue, whose worker has the activity.

export const RFM_SCHEDULE_ID = 'cs-rfm-daily';

/**
 * Create the daily schedule unless it exists (then it is left as it is: an operator may have paused or edited it in
 * the Web UI). Every 24 h at 19:00 UTC = 03:00 Beijing time, the quietest hour; a run still going when the next is
 * due makes that one skip; after an outage only the runs missed in the last day catch up (each computes as of now).
 * Returns whether it was created.
 */
export async function ensureRfmSchedule(client: Client, taskQueue: string): Promise<boolean> {
  try {
    await client.schedule.create({
      scheduleId: RFM_SCHEDULE_ID,
      spec: { intervals: [{ every: '24h', offset: '19h' }] },
      action: { type: 'startWorkflow', workflowType: recomputeTiers, taskQueue, args: [{}] },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1d' },
    });
    return true;
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) return false;
    throw err;
  }
}

/** A recompute that did not finish within the wait: it goes on, and its workflow id finds it in the Web UI. */
export interface RecomputeRunning {
  workflowId: string;
  status: 'running';
}

export type RecomputeDone = TierRecomputeResult & { workflowId: string };

/** Runs the recompute workflow now and waits for its result, up to `waitMs`. */
export class TierRecompute {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly waitMs = 60_000,
  ) {}

  async run(): Promise<RecomputeDone | RecomputeRunning> {
    // Unique per request: two admins asking at once get two (idempotent) runs rather than an id conflict.
    const workflowId = `rfm-${new Date().toISOString()}-${randomUUID().slice(0, 8)}`;
    const handle = await this.client.workflow.start(recomputeTiers, { workflowId, taskQueue: this.taskQueue, args: [{}] });
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<RecomputeRunning>((resolve) => {
      timer = setTimeout(() => resolve({ workflowId, status: 'running' }), this.waitMs);
    });
    try {
      return await Promise.race([handle.result().then((result) => ({ workflowId, ...result })), waited]);
    } finally {
      clearTimeout(timer);
    }
  }
}
