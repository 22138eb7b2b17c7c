import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import type { PlannedMessage } from './plan';
import { echoUpdate, trivial, type EchoMessage } from './trivial-workflow';

export const TRIVIAL_QUEUE = 'bench-trivial';

/** Start the trivial workflow's worker process (tests/bench/trivial-worker.ts); resolves once it polls. */
export async function startTrivialWorker(temporalAddress: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'trivial-worker.ts')], {
    env: { ...process.env, TEMPORAL_ADDRESS: temporalAddress, BENCH_TRIVIAL_QUEUE: TRIVIAL_QUEUE },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('[trivial-worker] ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`trivial worker exited with ${code} before it was ready`)));
  });
  return child;
}

/**
 * A sender for the trivial run, shaped like the API's gateway (server/conversation-gateway.ts): a user's
 * first message is an update-with-start of their workflow, every later one a plain Update on it; the update
 * id is the message's. So the trivial run and the bot run differ in what happens inside a turn, not in the
 * Temporal calls around it. It calls Temporal directly: the trivial baseline is Temporal alone.
 */
export function trivialSender(client: Client): (msg: PlannedMessage) => Promise<void> {
  return async (msg) => {
    const workflowId = `trivial-${msg.userId}`;
    const args: [EchoMessage] = [{ messageId: msg.messageId, text: msg.text }];
    const updateId = `msg-${msg.messageId}`;
    if (!msg.opensConversation) {
      await client.workflow.getHandle(workflowId).executeUpdate(echoUpdate, { args, updateId });
      return;
    }
    await client.workflow.executeUpdateWithStart(echoUpdate, {
      args,
      updateId,
      startWorkflowOperation: new WithStartWorkflowOperation(trivial, { workflowId, taskQueue: TRIVIAL_QUEUE, workflowIdConflictPolicy: 'USE_EXISTING' }),
    });
  };
}
