import { conversationSetup, initialContext, type ConversationMachine } from './conversation';
import { validateChart, type ChartDefinition } from './validate';

/** A chart version ready to run: its registry version, its definition (data) and the XState machine built from it. */
export interface Chart {
  version: number;
  definition: ChartDefinition;
  machine: ConversationMachine;
}

export class InvalidChartError extends Error {
  constructor(readonly errors: string[]) {
    super(`invalid chart: ${errors.join('; ')}`);
  }
}

/** Validate a chart definition and build its machine; throws InvalidChartError listing every problem. */
export function buildChart(version: number, raw: unknown): Chart {
  const result = validateChart(raw);
  if (!result.ok) throw new InvalidChartError(result.errors);
  const { params, ...config } = result.chart;
  // The validator has checked every name against the registered implementations; this is where the
  // JSON becomes XState's typed config (JSON cannot carry TypeScript's literal name types).
  const machineConfig = config as Parameters<typeof conversationSetup.createMachine>[0];
  const machine = conversationSetup.createMachine({ ...machineConfig, context: ({ input }) => initialContext(input) });
  return { version, definition: { ...config, params }, machine };
}
