import { condition, defineUpdate, setHandler } from '@temporalio/workflow';

// The baseline for the cost of durability: a workflow whose update handler returns at once. Bundled on its
// own (tests/bench/trivial-worker.ts), so it shares nothing with the conversation workflow but the server.

export interface EchoMessage {
  messageId: string;
  text: string;
}

/** Takes the message a conversation turn would take and answers with it, doing nothing in between. */
export const echoUpdate = defineUpdate<EchoMessage, [EchoMessage]>('echo');

/** Waits for updates for as long as the benchmark runs; the dev server is thrown away afterwards. */
export async function trivial(): Promise<void> {
  setHandler(echoUpdate, (msg) => msg);
  await condition(() => false);
}
