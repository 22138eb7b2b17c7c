import express, { type NextFunction, type Request, type Response } from 'express';
import { newOrderSchema, newUserSchema, type PlatformStore } from '../platform/store';
import { ApiError } from './errors';

type Handler = (req: Request, res: Response) => Promise<void>;
const route = (fn: Handler) => (req: Request, res: Response, next: NextFunction) => fn(req, res).catch(next);

function parse<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } } }, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ApiError(400, 'invalid_request', `${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return r.data;
}

/** Admin API of the platform stand-in: create users and orders (behind its own token). */
export function adminRouter(store: PlatformStore, adminToken: string): express.Router {
  const r = express.Router();
  r.use((req, _res, next) => {
    if (req.headers.authorization !== `Bearer ${adminToken}`) return next(new ApiError(401, 'unauthorized', 'a valid admin token is required'));
    next();
  });
  r.use(express.json({ limit: '100kb' }));

  r.put('/users/:id', route(async (req, res) => {
    const user = parse(newUserSchema, { ...req.body, id: req.params.id });
    await store.upsertUser(user);
    res.json(user);
  }));

  r.put('/orders/:id', route(async (req, res) => {
    const order = parse(newOrderSchema, { ...req.body, id: req.params.id });
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
