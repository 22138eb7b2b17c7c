/**
 * Fit the continuation model (models/continuation.ts) on the TRAIN split of the multi-turn corpus: for every user
 * turn that has a topic before it (the labelled topic of the previous turn) and is not a conversational act, does the
 * turn continue that topic?
 * Features come from the same intent model and knowledge index the workers use. A seeded fifth of the train
 * conversations is held out first to report how well the fit generalises; then the model is fitted on all of them.
 * The held-out test split of the corpus is never read here.
 *
 *   npm run train:continuation [-- --write]   # --write stores the weights as params.continuation of the committed chart
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { COMMITTED_CHART } from '../db/chart-registry';
import { KnowledgeIndex } from '../knowledge/retrieval';
import { readContent } from '../knowledge/store';
import { OnnxClassifier } from '../models/classifier';
import { continuationFeatures, continuationProbability, fitContinuation } from '../models/continuation';
import { mulberry32 } from '../models/random';
import { ARTIFACTS_DIR } from '../models/registry';

const DIALOGUES = path.join(__dirname, '../models/dialogues/dialogues.jsonl');
const SEED = 20261202;

interface Dialogue {
  id: string;
  split: string;
  turns: Array<{ text: string; label: { intent: string; topic: string | null } }>;
}

async function main() {
  const write = process.argv.includes('--write');
  const dialogues = readFileSync(DIALOGUES, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Dialogue)
    .filter((d) => d.split === 'train');
  const { entries, lexicon } = readContent();
  const index = new KnowledgeIndex(entries, lexicon);
  const intent = await OnnxClassifier.load(ARTIFACTS_DIR, 'intent');

  const byConversation: Array<Array<{ features: Record<string, number>; continues: boolean }>> = [];
  for (const d of dialogues) {
    const examples = [];
    let topic: string | null = null;
    for (const t of d.turns) {
      if (topic) {
        const prediction = await intent.predict(t.text);
        const features = continuationFeatures({
          text: t.text,
          topic,
          modelProb: new Map(prediction.scores.map((s) => [s.label, s.score])),
          retrieval: new Map(index.search(t.text, 6).map((c) => [c.intent, c.score])),
          detail: index.searchDetails(topic, t.text)?.score ?? 0,
        });
        // Conversational acts are the chart's to read (a "好的" neither continues nor leaves a topic): not fitted here.
        if (!t.label.intent.startsWith('meta.')) examples.push({ features, continues: t.label.intent === topic });
      }
      topic = t.label.topic ?? topic;
    }
    byConversation.push(examples);
  }

  // Validation: hold out a seeded fifth of the conversations.
  const rand = mulberry32(SEED);
  const held = byConversation.map(() => rand() < 0.2);
  const fitOn = byConversation.filter((_, i) => !held[i]).flat();
  const check = byConversation.filter((_, i) => held[i]).flat();
  const trial = fitContinuation(fitOn);
  const right = check.filter((ex) => continuationProbability(trial, ex.features) >= 0.5 === ex.continues).length;
  const base = check.filter((ex) => ex.continues).length;
  console.log(
    `validation (${check.length} turns of ${held.filter(Boolean).length} held-out train conversations): accuracy ${((100 * right) / check.length).toFixed(1)} %` +
      ` (always "continues": ${((100 * base) / check.length).toFixed(1)} %)`,
  );

  const weights = fitContinuation(byConversation.flat());
  console.log(`fitted on ${byConversation.flat().length} turns:`, JSON.stringify(weights));
  if (write) {
    const chart = JSON.parse(readFileSync(COMMITTED_CHART, 'utf8'));
    chart.params.continuation = weights;
    writeFileSync(COMMITTED_CHART, JSON.stringify(chart, null, 2) + '\n');
    console.log(`written to ${path.relative(process.cwd(), COMMITTED_CHART)} (params.continuation)`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
