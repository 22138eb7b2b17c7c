import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';

export const FIXTURES = path.join(__dirname, '../fixtures/histories');

/**
 * With UPDATE_HISTORY_FIXTURES=1, record a history (protobuf binary) as a fixture that every later version of
 * the workflow must replay. Existing fixtures are never overwritten: they are the old versions to stay compatible with.
 */
export function saveFixture(name: string, history: temporal.api.history.v1.IHistory): void {
  const file = path.join(FIXTURES, `${name}.pb`);
  if (process.env.UPDATE_HISTORY_FIXTURES !== '1' || existsSync(file)) return;
  writeFileSync(file, temporal.api.history.v1.History.encode(history).finish());
}

export function loadFixtures(): Array<{ workflowId: string; history: temporal.api.history.v1.History }> {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.pb'))
    .map((f) => ({ workflowId: f, history: temporal.api.history.v1.History.decode(readFileSync(path.join(FIXTURES, f))) }));
}
