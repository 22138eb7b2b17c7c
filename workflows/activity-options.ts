import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';

// Timeouts and retry policies of the conversation's activities, by what they do. Each has a fallback
// branch in the chart (or in the workflow) for when its retries are used up.

/** Understanding reads in-memory models and an index: fast, retried once, then the chart's menu fallback. */
export const UNDERSTANDING: LocalActivityOptions = {
  startToCloseTimeout: '2s',
  retry: { maximumAttempts: 2, initialInterval: '50ms' },
};

/** Reading a chart version from the registry at a conversation's start (cached per worker). */
export const CHART_LOADING: LocalActivityOptions = {
  startToCloseTimeout: '5s',
  retry: { initialInterval: '200ms', maximumInterval: '10s' },
};

/** The user's tier at a conversation's start (a local activity: one quick read), then the fallback tier. */
export const CUSTOMER_LOOKUP: LocalActivityOptions = {
  startToCloseTimeout: '2s',
  retry: { maximumAttempts: 3, initialInterval: '100ms' },
};

/** The platform's account and order systems and the handoff queue: a few quick retries, then the chart's fallback. */
export const PLATFORM_CALLS: ActivityOptions = {
  startToCloseTimeout: '5s',
  retry: { maximumAttempts: 3, initialInterval: '200ms', backoffCoefficient: 2 },
};

/**
 * Recording a turn (replies, state, event) through the conversation store. Without it the reply may not
 * be sent, so it is retried without limit: during a database outage the turn waits, the API answers 503,
 * and the channel's retry with the same messageId gets the reply once the database is back.
 */
export const RECORDING: LocalActivityOptions = {
  startToCloseTimeout: '5s',
  retry: { initialInterval: '100ms', maximumInterval: '10s' },
};

/** Closing must eventually happen, whatever the database is doing: retried without limit. */
export const CLOSING: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
};

/**
 * The RFM tier recompute reads and writes every platform user in batches: minutes at most, a heartbeat per batch
 * (a retry resumes after the last finished one), retried with backoff — it is idempotent for its `asOf`.
 */
export const TIER_RECOMPUTE: ActivityOptions = {
  startToCloseTimeout: '30m',
  heartbeatTimeout: '1m',
  retry: { initialInterval: '5s', maximumInterval: '5m', maximumAttempts: 10 },
};
