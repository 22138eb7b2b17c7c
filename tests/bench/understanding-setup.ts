import { makeUnderstand } from '../../activities/understand';
import { KnowledgeIndex } from '../../knowledge/retrieval';
import { readContent } from '../../knowledge/store';
import { OnnxClassifier } from '../../models/classifier';
import { embedAll } from '../../models/encoder/embedding-cache';
import { EncoderUnavailable, SentenceEncoder } from '../../models/encoder/encoder';
import { ARTIFACTS_DIR } from '../../models/registry';
import { config } from '../../common/config';

/** The sentence encoder as a worker has it: undefined when it is not set up or CS_ENCODER=off (then BM25 alone). */
export async function benchEncoder(): Promise<SentenceEncoder | undefined> {
  if (!config.encoder.enabled) return undefined;
  try {
    return await SentenceEncoder.load();
  } catch (err) {
    if (!(err instanceof EncoderUnavailable)) throw err;
    console.warn(`[bench] no sentence encoder (${err.message}): retrieval is BM25 alone`);
    return undefined;
  }
}

/**
 * The worker's `understand` activity over the committed models and knowledge files, without a database; with the
 * sentence encoder when it is set up, its vectors attached to the knowledge index as the worker's KnowledgeHolder does.
 */
export async function committedUnderstanding() {
  const { entries, lexicon } = readContent();
  const index = new KnowledgeIndex(entries, lexicon);
  const encoder = await benchEncoder();
  if (encoder) index.attachEmbeddings(await embedAll(encoder, index.phrasings(), 'query', console.log), encoder.id);
  const models = {
    intent: await OnnxClassifier.load(ARTIFACTS_DIR, 'intent'),
    emotion: await OnnxClassifier.load(ARTIFACTS_DIR, 'emotion'),
    versions: { intent: 0, emotion: 0 },
  };
  return { index, encoder, understand: makeUnderstand({ current: () => index }, { current: () => models }, { current: () => encoder }) };
}
