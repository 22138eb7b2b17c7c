import express from 'express';
import { z } from 'zod';
import type { ConversationStore } from '../db/conversation-store';
import { ApiError } from './errors';
import { requireBearer, route } from './http';

const offerIdSchema = z.string().regex(/^offer-\d{1,20}-\d{1,6}$/);
const userIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

/** A channel reports that the user took an offer shown in a conversation (`replies[].offer.id`). */
export function offersRouter(store: ConversationStore, channelToken: string): express.Router {
  const r = express.Router();
  r.use(requireBearer(channelToken, 'channel'));
  r.post('/:id/accept', route(async (req, res) => {
    if (!offerIdSchema.safeParse(req.params.id).success) throw new ApiError(404, 'offer_not_found', `no offer ${req.params.id}`);
    const converted = await store.acceptOffer(req.params.id as string);
    if (!converted) throw new ApiError(404, 'offer_not_found', `no offer ${req.params.id}`);
    res.json(converted);
  }));
  return r;
}

/** Admin read of a user's conversions (accepted offers and orders of an offered product within 7 days). */
export function conversionsRouter(store: ConversationStore, adminToken: string): express.Router {
  const r = express.Router();
  r.get('/users/:id/conversions', requireBearer(adminToken, 'admin'), route(async (req, res) => {
    const userId = userIdSchema.safeParse(req.params.id);
    if (!userId.success) throw new ApiError(400, 'invalid_request', 'user ids are 1–64 characters of A–Z a–z 0–9 _ -');
    res.json({ conversions: await store.conversions(userId.data) });
  }));
  return r;
}
