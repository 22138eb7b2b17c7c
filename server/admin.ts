import express from 'express';
import { newOrderSchema, newUserSchema, type PlatformStore } from '../platform/store';
import { ApiError } from './errors';
import { parseWith, requireBearer, route } from './http';

/** Admin API of the platform stand-in: create users and orders (behind its own token). */
export function adminRouter(store: PlatformStore, adminToken: string): express.Router {
  const r = express.Router();
  r.use(requireBearer(adminToken, 'admin'));
  r.use(express.json({ limit: '100kb' }));

  r.put('/users/:id', route(async (req, res) => {
    const user = parseWith(newUserSchema, { ...req.body, id: req.params.id });
    await store.upsertUser(user);
    res.json(user);
  }));

  r.put('/orders/:id', route(async (req, res) => {
    const order = parseWith(newOrderSchema, { ...req.body, id: req.params.id });
    if (!(await store.userExists(order.userId))) throw new ApiError(404, 'user_not_found', `no platform user ${order.userId}`);
    await store.upsertOrder(order);
    res.json(await store.findOrder(order.userId, order.id));
  }));

  r.get('/users/:userId/orders/:id', route(async (req, res) => {
    const order = await store.findOrder(req.params.userId as string, req.params.id as string);
    if (!order) throw new ApiError(404, 'order_not_found', `no order ${req.params.id} for ${req.params.userId}`);
    res.json(order);
  }));
  return r;
}
