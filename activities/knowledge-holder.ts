import type { DataSource } from 'typeorm';
import type { KnowledgeIndex } from '../knowledge/retrieval';
import { loadKnowledgeIndex } from '../knowledge/store';

/**
 * The worker's current knowledge index. Rebuilt when the stored entries change (the worker checks every CS_REFRESH_MS), so edits
 * reach every worker without a restart; a failed refresh keeps serving the last good index.
 */
export class KnowledgeHolder {
  private index: KnowledgeIndex | undefined;

  constructor(private readonly ds: DataSource) {}

  async load(): Promise<KnowledgeIndex> {
    this.index = await loadKnowledgeIndex(this.ds);
    return this.index;
  }

  /** The index, or an error that makes the chart take its menu fallback. */
  current(): KnowledgeIndex {
    if (!this.index) throw new Error('knowledge index is not loaded');
    return this.index;
  }

  async refreshIfChanged(): Promise<boolean> {
    const [{ version }] = await this.ds.query('SELECT COALESCE(SUM(version), 0)::int AS version FROM knowledge_entries');
    if (this.index && this.index.version === version) return false;
    await this.load();
    return true;
  }
}
