import type { TurnResponse } from '../../common/types';
import type { Lane, PlannedMessage } from './plan';

/** One message's outcome as its sender saw it; `ms` runs from the first attempt to the last answer. */
export interface Timed<T> {
  msg: PlannedMessage;
  ms: number;
  result: T;
}

/**
 * Run every lane at once (closed loop): a lane sends its next message when the previous one is answered,
 * after the think time. With think time, lanes also start spread over one think period instead of all at
 * once, and pauses vary from 0.5× to 1.4× so users drift apart. Zero think time measures saturation.
 */
export async function driveLanes<T>(
  lanes: Lane[],
  thinkMs: number,
  send: (msg: PlannedMessage) => Promise<T>,
): Promise<{ timed: Timed<T>[]; seconds: number }> {
  const timed: Timed<T>[] = [];
  const started = performance.now();
  await Promise.all(
    lanes.map(async (lane, l) => {
      if (thinkMs) await sleep((l * thinkMs) / lanes.length);
      for (const [t, msg] of lane.entries()) {
        const t0 = performance.now();
        const result = await send(msg);
        timed.push({ msg, ms: performance.now() - t0, result });
        if (thinkMs) await sleep(thinkMs * (0.5 + ((l * 7 + t * 13) % 10) / 10));
      }
    }),
  );
  return { timed, seconds: (performance.now() - started) / 1000 };
}

/** What the channel API answered: the final status, the 200 body, and how many attempts it took. */
export interface ChannelResult {
  status: number;
  body: TurnResponse | null;
  attempts: number;
}

const ATTEMPTS = 3;

/** POST one message to the app channel; a 503 (the API's "stored, retry with the same messageId") is retried. */
export async function sendToChannel(baseUrl: string, token: string, msg: PlannedMessage): Promise<ChannelResult> {
  let status = 0;
  let attempts = 0;
  while (attempts < ATTEMPTS) {
    attempts++;
    const res = await fetch(`${baseUrl}/api/channels/app/messages`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ userId: msg.userId, text: msg.text, messageId: msg.messageId }),
    });
    status = res.status;
    if (res.ok) return { status, body: (await res.json()) as TurnResponse, attempts };
    await res.arrayBuffer();
    if (status !== 503) break; // only what the API says is retryable
  }
  return { status, body: null, attempts };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
