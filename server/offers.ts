import express from 'express';
import { z } from 'zod';
import type { ConversationStore } from '../db/conversation-store';
import type { CouponStore } from '../db/coupon-store';
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

/** Admin reads of what the bot did for a user: conversions (accepted offers, orders of an offered product within 7 days) and coupons. */
export function userEffectsRouter(store: ConversationStore, coupons: CouponStore, adminToken: string): express.Router {
  const r = express.Router();
  const userIdOf = (raw: unknown) => {
    const userId = userIdSchema.safeParse(raw);
    if (!userId.success) throw new ApiError(400, 'invalid_request', 'user ids are 1–64 characters of A–Z a–z 0–9 _ -');
    return userId.data;
  };
  r.get('/users/:id/conversions', requireBearer(adminToken, 'admin'), route(async (req, res) => {
    res.json({ conversions: await store.conversions(userIdOf(req.params.id)) });
  }));
  r.get('/users/:id/coupons', requireBearer(adminToken, 'admin'), route(async (req, res) => {
    res.json({ coupons: await coupons.list(userIdOf(req.params.id)) });
  }));
  return r;
}
