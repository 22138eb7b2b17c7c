import { Client, Connection } from '@temporalio/client';
import { config } from '../common/config';
import { temporalConnectionOptions } from '../common/temporal-connection';
import { Snowflake } from '../common/snowflake';
import { openDatabase } from '../db/data-source';
import { createApp } from './app';
import { ConversationGateway } from './conversation-gateway';
import { ConversationService } from './conversation-service';
import { MessageFeed } from './message-feed';
import { ConversationStore } from '../db/conversation-store';
import { IdentityStore } from '../db/identity-store';
import { RateLimiter } from './rate-limit';
import { PlatformStore } from '../platform/store';
import { TierRecompute } from './tier-recompute';

/** HTTP process: the channel API. Temporal is connected lazily so the API can report 503 while it is down. */
async function main() {
  const ds = await openDatabase();
  const connection = Connection.lazy(temporalConnectionOptions(process.env, config.temporalAddress));
  const client = new Client({ connection, namespace: config.temporalNamespace });
  const gateway = new ConversationGateway(
    client,
    config.taskQueue,
    { inactivityMs: config.inactivityMs, turnsPerRun: config.turnsPerRun },
    config.replyTimeoutMs,
  );
  const platform = new PlatformStore(ds);
  const store = new ConversationStore(ds, new Snowflake(config.nodeId));
  const feed = new MessageFeed(config.databaseUrl);
  await feed.start();
  const app = createApp({
    ds,
    conversations: new ConversationService(store, gateway, new IdentityStore(ds), platform),
    store,
    feed,
    channelToken: config.channelToken,
    rateLimiter: new RateLimiter(config.rateLimitMessages, config.rateLimitWindowMs),
    admin: { store: platform, token: config.adminToken, tiers: new TierRecompute(client, config.taskQueue) },
  });
  const server = app.listen(config.httpPort, () => console.log(`[api] listening on http://127.0.0.1:${config.httpPort}`));
  const stop = () => server.close(() => void Promise.all([feed.stop(), ds.destroy()]).then(() => process.exit(0)));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => {
  console.error('[api] fatal', err);
  process.exit(1);
});
