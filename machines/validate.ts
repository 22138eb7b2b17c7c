import { z } from 'zod';
import { registeredNames } from './conversation';
import { isSimpleReply } from './replies';
import type { ChartParams, OrderView } from './types';

// The chart validator, shared by tests, the registry (nothing invalid is stored) and later the designer.
// A chart is refused when its JSON has an unknown shape, when it names a guard, action, actor, reply or
// event that is not registered in code, when a target does not exist, or when an invoke lacks its error
// branch. XState itself would skip an unknown action silently; here it is an error.

const EVENTS = ['user.message', 'session.timeout'] as const;
const EXPECTING = ['question', 'feedback', 'choice', 'menu', 'orderId', 'orderChoice', 'verification', 'actionConfirm', 'address'] as const;
const ORDER_STATUSES = ['paid', 'shipped', 'delivered', 'cancelled', 'refunding', 'refunded'] as const satisfies ReadonlyArray<OrderView['status']>;

const ref = z.union([z.string(), z.object({ type: z.string(), params: z.record(z.string(), z.unknown()).optional() }).strict()]);
const refs = z.union([ref, z.array(ref)]);
const transition = z.union([
  z.string(),
  z
    .object({
      target: z.union([z.string(), z.array(z.string())]).optional(),
      guard: ref.optional(),
      actions: refs.optional(),
      reenter: z.boolean().optional(),
      description: z.string().optional(),
    })
    .strict(),
]);
const transitions = z.union([transition, z.array(transition)]);
const invoke = z
  .object({ id: z.string(), src: z.string(), onDone: transitions.optional(), onError: transitions.optional() })
  .strict();

export interface StateNodeJson {
  type?: 'final' | 'compound' | 'parallel';
  initial?: string;
  description?: string;
  entry?: z.infer<typeof refs>;
  exit?: z.infer<typeof refs>;
  on?: Record<string, z.infer<typeof transitions>>;
  always?: z.infer<typeof transitions>;
  invoke?: z.infer<typeof invoke> | Array<z.infer<typeof invoke>>;
  states?: Record<string, StateNodeJson>;
}

const stateNode: z.ZodType<StateNodeJson> = z.lazy(() =>
  z
    .object({
      type: z.enum(['final', 'compound', 'parallel']).optional(),
      initial: z.string().optional(),
      description: z.string().optional(),
      entry: refs.optional(),
      exit: refs.optional(),
      on: z.record(z.string(), transitions).optional(),
      always: transitions.optional(),
      invoke: z.union([invoke, z.array(invoke)]).optional(),
      states: z.record(z.string(), stateNode).optional(),
    })
    .strict(),
);

const params = z
  .object({
    confidentScore: z.number().min(0).max(1),
    confidentMargin: z.number().min(0).max(1),
    candidateScore: z.number().min(0).max(1),
    maxRejections: z.number().int().min(1).max(10),
    upsetScore: z.number().min(0).max(1),
    orderTopics: z.array(z.string().regex(/^order\.[a-z_]+$/)),
    // Added with chart v3; earlier versions in the registry lack them and keep their behaviour.
    orderFits: z.record(z.string().regex(/^order\.[a-z_]+$/), z.array(z.enum(ORDER_STATUSES)).min(1)).default({}),
    accountTopics: z.array(z.string().regex(/^[a-z]+\.[a-z_]+$/)).default([]),
    readInTopic: z.boolean().default(false),
    topicPrior: z.number().min(0).max(1).default(0),
    detailWeight: z.number().min(0).max(1).default(0),
    verifyGuests: z.boolean().default(false),
    continuation: z.object({ bias: z.number(), weights: z.record(z.string(), z.number()) }).strict().nullable().default(null),
    stepwiseChannels: z.array(z.enum(['app', 'web', 'email', 'phone'])).default([]),
    offerActions: z.boolean().default(false),
    offersAfterResolution: z.boolean().default(false),
    offerPerks: z.record(z.string(), z.string().max(60)).default({}),
    routeQueues: z.boolean().default(false),
    compensation: z
      .object({
        topics: z.array(z.string().regex(/^[a-z]+\.[a-z_]+$/)),
        minScore: z.number().min(0).max(1),
        amountByTier: z.record(z.string(), z.number().positive().max(500)),
      })
      .strict()
      .nullable()
      .default(null),
    stalledDays: z.number().int().min(1).max(30).default(3),
    detailScore: z.number().min(0).max(1).default(1),
  })
  .strict() satisfies z.ZodType<ChartParams>;

const chartSchema = z
  .object({
    id: z.string().regex(/^[a-z][a-zA-Z0-9_-]*$/),
    description: z.string().optional(),
    params,
    initial: z.string(),
    on: z.record(z.string(), transitions).optional(),
    states: z.record(z.string(), stateNode),
  })
  .strict();

export type ChartDefinition = z.infer<typeof chartSchema>;
export type ChartValidation = { ok: true; chart: ChartDefinition } | { ok: false; errors: string[] };

const asArray = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

export function validateChart(raw: unknown): ChartValidation {
  const parsed = chartSchema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, errors: parsed.error.issues.map((i) => `${i.path.join('.') || '(chart)'}: ${i.message}`) };
  }
  const chart = parsed.data;
  const errors: string[] = [];
  const root: StateNodeJson = { initial: chart.initial, on: chart.on, states: chart.states };

  // Every state by its path from the root ("" is the root), to resolve targets.
  const paths = new Map<string, StateNodeJson>();
  const collect = (node: StateNodeJson, path: string) => {
    paths.set(path, node);
    for (const [key, child] of Object.entries(node.states ?? {})) collect(child, path ? `${path}.${key}` : key);
  };
  collect(root, '');

  const resolve = (target: string, statePath: string): string | null => {
    if (target.startsWith('#')) {
      const [id, ...rest] = target.slice(1).split('.');
      return id === chart.id ? rest.join('.') : null;
    }
    if (target.startsWith('.')) return statePath ? `${statePath}${target}` : target.slice(1); // a child of this state
    const parent = statePath.includes('.') ? statePath.slice(0, statePath.lastIndexOf('.')) : '';
    return parent ? `${parent}.${target}` : target; // a sibling
  };

  const checkRef = (r: z.infer<typeof ref>, kind: 'guards' | 'actions', where: string) => {
    const name = typeof r === 'string' ? r : r.type;
    if (!registeredNames[kind].includes(name)) errors.push(`${where}: unknown ${kind === 'guards' ? 'guard' : 'action'} "${name}"`);
    if (kind === 'actions' && name === 'say') {
      const p = typeof r === 'string' ? undefined : r.params;
      if (typeof p?.reply !== 'string' || !isSimpleReply(p.reply)) errors.push(`${where}: action "say" needs params.reply, one of the registered replies (got ${JSON.stringify(p?.reply)})`);
      if (p?.expecting !== undefined && !EXPECTING.includes(p.expecting as (typeof EXPECTING)[number])) {
        errors.push(`${where}: action "say" params.expecting must be one of ${EXPECTING.join(', ')}`);
      }
    }
  };

  const checkTransitions = (t: z.infer<typeof transitions>, statePath: string, where: string) => {
    for (const one of asArray(t)) {
      const obj = typeof one === 'string' ? { target: one } : one;
      for (const target of asArray(obj.target)) {
        const resolved = resolve(target, statePath);
        if (resolved === null || !paths.has(resolved)) errors.push(`${where}: target "${target}" does not exist`);
      }
      if ('guard' in obj && obj.guard) checkRef(obj.guard, 'guards', where);
      if ('actions' in obj) for (const a of asArray(obj.actions)) checkRef(a, 'actions', where);
    }
  };

  for (const [path, node] of paths) {
    const at = path || '(root)';
    if (node.states && Object.keys(node.states).length > 0) {
      if (node.type !== 'parallel' && (!node.initial || !node.states[node.initial])) {
        errors.push(`${at}: initial state "${node.initial ?? ''}" is not one of its states`);
      }
    }
    for (const a of [...asArray(node.entry), ...asArray(node.exit)]) checkRef(a, 'actions', `${at} entry/exit`);
    for (const [event, t] of Object.entries(node.on ?? {})) {
      if (!EVENTS.includes(event as (typeof EVENTS)[number])) errors.push(`${at}: unknown event "${event}"`);
      checkTransitions(t, path, `${at} on ${event}`);
    }
    if (node.always) checkTransitions(node.always, path, `${at} always`);
    for (const inv of asArray(node.invoke)) {
      if (!registeredNames.actors.includes(inv.src)) errors.push(`${at}: unknown actor "${inv.src}"`);
      if (inv.id !== inv.src) errors.push(`${at}: invoke id "${inv.id}" must equal its src (the interpreter names results by it)`);
      if (!inv.onDone) errors.push(`${at}: invoke "${inv.src}" has no onDone branch`);
      if (!inv.onError) errors.push(`${at}: invoke "${inv.src}" has no onError branch`);
      if (inv.onDone) checkTransitions(inv.onDone, path, `${at} invoke ${inv.src} onDone`);
      if (inv.onError) checkTransitions(inv.onError, path, `${at} invoke ${inv.src} onError`);
    }
  }
  return errors.length ? { ok: false, errors } : { ok: true, chart };
}
