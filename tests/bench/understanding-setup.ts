import { makeUnderstand } from '../../activities/understand';
import { KnowledgeIndex } from '../../knowledge/retrieval';
import { readContent } from '../../knowledge/store';
import { OnnxClassifier } from '../../models/classifier';
import { ARTIFACTS_DIR } from '../../models/registry';

/** The worker's `understand` activity over the committed models and knowledge files, without a database. */
export async function committedUnderstanding() {
  const { entries, lexicon } = readContent();
  const index = new KnowledgeIndex(entries, lexicon);
  const models = {
    intent: await OnnxClassifier.load(ARTIFACTS_DIR, 'intent'),
    emotion: await OnnxClassifier.load(ARTIFACTS_DIR, 'emotion'),
    versions: { intent: 0, emotion: 0 },
  };
  return { index, understand: makeUnderstand({ current: () => index }, { current: () => models }) };
}
