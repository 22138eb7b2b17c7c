import type { DataSource } from 'typeorm';
import { loadChartDefinition } from '../db/chart-registry';
import type { ChartDefinition } from '../machines/validate';

/**
 * Load a chart version for a conversation (a local activity at its start; the result is recorded in
 * history, so replay never reads the registry). Versions are immutable, so each is read once per worker.
 */
export function makeLoadChart(ds: DataSource) {
  const cache = new Map<number, Promise<ChartDefinition>>();
  return async function loadChart(input: { version: number }): Promise<{ version: number; definition: ChartDefinition }> {
    let definition = cache.get(input.version);
    if (!definition) {
      definition = loadChartDefinition(ds, input.version).then((found) => {
        if (!found) throw new Error(`chart version ${input.version} is not in the registry`);
        return found;
      });
      cache.set(input.version, definition);
      definition.catch(() => cache.delete(input.version)); // a failed read is tried again next time
    }
    return { version: input.version, definition: await definition };
  };
}
