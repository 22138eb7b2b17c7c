import express from 'express';
import { MoreThan, type DataSource } from 'typeorm';
import { Conversation, Message, type ConversationRow, type MessageRow } from '../db/entities';
import type { Channel } from '../common/types';
import type { PlatformStore } from '../platform/store';
import { adminRouter } from './admin';
import type { ConversationService } from './conversation-service';
import type { MessageFeed } from './message-feed';
import type { ConversationStore } from '../db/conversation-store';
import { offersRouter, userEffectsRouter } from './offers';
import { CouponStore } from '../db/coupon-store';
import { config } from '../common/config';
import type { TierRecompute } from './tier-recompute';
import { ApiError, errorHandler } from './errors';
import { parseWith, requireBearer, route } from './http';
import { RateLimiter } from './rate-limit';
import { channelSchema, idSchema, imageBytes, inboundSchema, MAX_IMAGE_BYTES, MAX_TEXT } from './validation';

export interface AppDeps {
  ds: DataSource;
  conversations: ConversationService;
  channelToken: string;
  rateLimiter: RateLimiter;
  /** Wakes SSE streams when messages are written (LISTEN/NOTIFY). */
  feed: MessageFeed;
  /** Offers and conversions (POST /api/offers/{id}/accept; admin: a user's conversions). */
  store: ConversationStore;
  /** The admin API (platform stand-in, chart registry, tier recompute); mounted at /api/admin when given. */
  admin?: { store: PlatformStore; token: string; tiers?: TierRecompute };
}

/** A comment line this often keeps idle SSE connections open through proxies. */
const SSE_KEEPALIVE_MS = 15_000;

export function createApp({ ds, conversations, channelToken, rateLimiter, feed, store, admin }: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', route(async (_req, res) => {
    // Workers write their row on every check tick (worker/status.ts); a minute without one means gone.
    const workers: Array<{ workerId: string; taskQueue: string; startedAt: Date; seenAt: Date; understanding: unknown }> = await ds.query(
      `SELECT worker_id AS "workerId", task_queue AS "taskQueue", started_at AS "startedAt", seen_at AS "seenAt", understanding
         FROM worker_status WHERE seen_at > now() - interval '1 minute' ORDER BY worker_id`,
    );
    res.json({ ok: true, workers });
  }));

  app.use('/api/offers', offersRouter(store, channelToken));
  if (admin) app.use('/api/admin', userEffectsRouter(store, new CouponStore(ds, config.couponBudgets), admin.token));
  if (admin) app.use('/api/admin', adminRouter(ds, admin.store, admin.token, admin.tiers));

  const api = express.Router();
  api.use(requireBearer(channelToken, 'channel'));
  // Room for a 5 MB image as base64 plus the other fields; larger bodies get 413 before parsing.
  api.use(express.json({ limit: '7mb', strict: true }));

  api.post('/channels/:channel/messages', route(async (req, res) => {
    const channel = channelSchema.safeParse(req.params.channel);
    if (!channel.success) throw new ApiError(400, 'invalid_channel', 'channel must be one of app, web, email, phone');
    if (!req.is('application/json')) throw new ApiError(400, 'invalid_json', 'send the message as application/json');
    const msg = parseWith(inboundSchema, req.body);
    if ((msg.text?.length ?? 0) > MAX_TEXT) throw new ApiError(413, 'text_too_long', `text is limited to ${MAX_TEXT} characters`);
    if (msg.image && imageBytes(msg.image) > MAX_IMAGE_BYTES) throw new ApiError(413, 'image_too_large', 'image is limited to 5 MB');
    if (!msg.text?.trim() && !msg.image && !msg.dtmf) {
      throw new ApiError(400, 'empty_message', 'a message needs text, an image or dtmf digits');
    }
    if (msg.callerId && channel.data !== 'phone') throw new ApiError(400, 'invalid_request', 'callerId: only on the phone channel');
    if (msg.from && channel.data !== 'email') throw new ApiError(400, 'invalid_request', 'from: only on the email channel');
    const wait = rateLimiter.take(msg.userId ?? msg.callerId ?? msg.from ?? '');
    if (wait > 0) throw new ApiError(429, 'rate_limited', 'too many messages; slow down', wait);
    res.json(await conversations.handle(channel.data as Channel, msg));
  }));

  api.get('/conversations/:id', route(async (req, res) => {
    const conv = await findConversation(ds, req.params.id as string);
    const messages = await listMessages(ds, conv.id);
    res.json({
      id: conv.id,
      userId: conv.userId,
      channels: conv.channels,
      state: conv.state,
      status: conv.status,
      chartVersion: conv.chartVersion,
      tier: conv.userTier,
      messages,
    });
  }));

  api.get('/conversations/:id/messages', route(async (req, res) => {
    const conv = await findConversation(ds, req.params.id as string);
    const after = await resolveAfter(ds, conv.id, req.query.after);
    res.json({ messages: await listMessages(ds, conv.id, after) });
  }));

  api.get('/conversations/:id/events', route(async (req, res) => {
    const conv = await findConversation(ds, req.params.id as string);
    let after = await resolveAfter(ds, conv.id, req.query.after ?? req.headers['last-event-id']);
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    res.write(': connected\n\n');
    // Woken by the feed; one read at a time, and one more if woken meanwhile.
    let reading = false;
    let wokenAgain = false;
    const drain = async () => {
      if (reading) return void (wokenAgain = true);
      reading = true;
      do {
        wokenAgain = false;
        const fresh = await listMessages(ds, conv.id, after).catch(() => []);
        for (const m of fresh) {
          res.write(`id: ${m.id}\nevent: message\ndata: ${JSON.stringify(m)}\n\n`);
          after = m.id;
        }
      } while (wokenAgain);
      reading = false;
    };
    const unsubscribe = feed.subscribe(conv.id, () => void drain());
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), SSE_KEEPALIVE_MS);
    req.on('close', () => {
      unsubscribe();
      clearInterval(keepAlive);
    });
    await drain();
  }));

  app.use('/api', api);
  app.use('/api', (_req, _res, next) => next(new ApiError(404, 'not_found', 'no such endpoint')));
  app.use(errorHandler);
  return app;
}

async function findConversation(ds: DataSource, id: string): Promise<ConversationRow> {
  const conv = idSchema.safeParse(id).success ? await ds.getRepository<ConversationRow>(Conversation).findOneBy({ id }) : null;
  if (!conv) throw new ApiError(404, 'conversation_not_found', `no conversation ${id}`);
  return conv;
}

/** `after` may be our message id or the client's messageId. */
async function resolveAfter(ds: DataSource, conversationId: string, after: unknown): Promise<string | null> {
  if (after === undefined || after === '') return null;
  if (typeof after !== 'string') throw new ApiError(400, 'invalid_request', 'after must be a message id');
  const [row] = await ds.query(
    `SELECT id::text FROM messages WHERE conversation_id = $1 AND (client_message_id = $2 OR id::text = $2) LIMIT 1`,
    [conversationId, after],
  );
  if (!row) throw new ApiError(404, 'message_not_found', `no message ${after} in this conversation`);
  return row.id;
}

async function listMessages(ds: DataSource, conversationId: string, after: string | null = null) {
  const rows = await ds.getRepository<MessageRow>(Message).find({
    where: { conversationId, ...(after ? { id: MoreThan(after) } : {}) },
    order: { id: 'ASC' },
  });
  return rows.map((r) => ({
    id: r.id,
    from: r.sender,
    text: r.text,
    at: r.createdAt.toISOString(),
    channel: r.channel,
    ...(r.kind ? { kind: r.kind } : {}),
    ...(r.options ? { options: r.options } : {}),
  }));
}
