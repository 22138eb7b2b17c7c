import express from 'express';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { ChartRejectedError, listChartVersions, loadChartDefinition, publishChart } from '../db/chart-registry';
import { newOrderSchema, newRechargeSchema, newUserSchema, newWithdrawalSchema, type PlatformStore } from '../platform/store';
import { ApiError } from './errors';
import { parseWith, requireBearer, route } from './http';
import type { TierRecompute } from './tier-recompute';

const publishSchema = z
  .object({
    chart: z.record(z.string(), z.unknown()),
    author: z.string().min(1).max(64),
    note: z.string().max(500).optional(),
  })
  .strict();

/** `POST /tiers/recompute` takes no options: it always recomputes every user as of now. */
const recomputeSchema = z.object({}).strict();

/**
 * Admin API (behind its own token): the platform stand-in's users and orders, the chart registry, and the RFM tier
 * recompute (`tiers`; without one it answers 503).
 */
export function adminRouter(ds: DataSource, store: PlatformStore, adminToken: string, tiers?: TierRecompute): express.Router {
  const r = express.Router();
  r.use(requireBearer(adminToken, 'admin'));
  r.use(express.json({ limit: '1mb' }));

  r.put('/users/:id', route(async (req, res) => {
    const user = parseWith(newUserSchema, { ...req.body, id: req.params.id });
    await store.upsertUser(user).catch((err: { code?: string }) => {
      if (err.code === '23505') throw new ApiError(409, 'contact_in_use', 'another user has this phone or e-mail bound');
      throw err;
    });
    res.json(await store.findAccountWithTier(user.id));
  }));

  r.get('/users/:id', route(async (req, res) => {
    const account = await store.findAccountWithTier(req.params.id as string);
    if (!account) throw new ApiError(404, 'user_not_found', `no platform user ${req.params.id}`);
    res.json(account);
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

  r.get('/users/:userId/actions', route(async (req, res) => {
    res.json({ actions: await store.orderActions(req.params.userId as string) });
  }));

  r.put('/recharges/:id', route(async (req, res) => {
    const recharge = parseWith(newRechargeSchema, { ...req.body, id: req.params.id });
    if (!(await store.userExists(recharge.userId))) throw new ApiError(404, 'user_not_found', `no platform user ${recharge.userId}`);
    await store.upsertRecharge(recharge);
    res.json(recharge);
  }));

  r.put('/withdrawals/:id', route(async (req, res) => {
    const withdrawal = parseWith(newWithdrawalSchema, { ...req.body, id: req.params.id });
    if (!(await store.userExists(withdrawal.userId))) throw new ApiError(404, 'user_not_found', `no platform user ${withdrawal.userId}`);
    await store.upsertWithdrawal(withdrawal);
    res.json(withdrawal);
  }));

  // RFM tiers: run the recompute workflow now and answer with its counts; 202 with its id if it takes longer.
  r.post('/tiers/recompute', route(async (req, res) => {
    parseWith(recomputeSchema, req.body ?? {});
    const recompute = tiers;
    if (!recompute) throw new ApiError(503, 'tiers_unavailable', 'this server cannot start the tier recompute');
    const out = await recompute.run();
    res.status('status' in out ? 202 : 200).json(out);
  }));

  // Chart registry: new conversations start on the latest published version; running ones keep theirs.
  r.get('/charts', route(async (_req, res) => {
    res.json({ versions: await listChartVersions(ds) });
  }));

  r.get('/charts/:version', route(async (req, res) => {
    const version = z.coerce.number().int().positive().safeParse(req.params.version);
    if (!version.success) throw new ApiError(400, 'invalid_request', 'version must be a positive integer');
    const chart = await loadChartDefinition(ds, version.data);
    if (!chart) throw new ApiError(404, 'chart_not_found', `no chart version ${version.data}`);
    res.json({ version: version.data, chart });
  }));

  r.post('/charts', route(async (req, res) => {
    const body = parseWith(publishSchema, req.body);
    try {
      const out = await publishChart(ds, body.chart, { author: body.author, note: body.note });
      res.status(201).json(out);
    } catch (err) {
      if (err instanceof ChartRejectedError) throw new ApiError(400, 'invalid_chart', err.message);
      throw err;
    }
  }));
  return r;
}
