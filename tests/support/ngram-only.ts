import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NGRAM_PREFIX, sha256 } from '../../models/model-format';
import { buildOnnxModel, encodeOnnxModel, networkFromOnnx } from '../../models/onnx-export';
import { ARTIFACTS_DIR } from '../../models/registry';

/**
 * A folder of artifacts where `task` is the committed fused model's n-gram head as a standalone n-gram model
 * (what `npm run train -- --encoder off` would train, without the 3 minutes), the other task as committed.
 */
export function ngramOnlyArtifacts(task: 'intent' | 'emotion'): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cs-ngram-only-'));
  const meta = JSON.parse(readFileSync(path.join(ARTIFACTS_DIR, `${task}.json`), 'utf8'));
  if (!meta.cascade) throw new Error(`the committed ${task} model is not fused`);
  const net = networkFromOnnx(readFileSync(path.join(ARTIFACTS_DIR, meta.onnx.file)), NGRAM_PREFIX);
  const bytes = encodeOnnxModel(buildOnnxModel(net, { graphName: `${task}_classifier`, docString: 'n-gram head of the committed fused model' }));
  writeFileSync(path.join(dir, `${task}.onnx`), bytes);
  const { encoder: _encoder, cascade, ...rest } = meta;
  writeFileSync(
    path.join(dir, `${task}.json`),
    JSON.stringify({
      ...rest,
      threshold: cascade.ngram.threshold,
      ...(cascade.ngram.calibration ? { calibration: cascade.ngram.calibration } : { calibration: undefined }),
      onnx: { ...meta.onnx, file: `${task}.onnx`, sha256: sha256(bytes), bytes: bytes.length, inputs: ['indices', 'values'], ngramOutput: undefined },
    }),
  );
  const other = task === 'intent' ? 'emotion' : 'intent';
  for (const f of [`${other}.json`, `${other}.onnx`]) copyFileSync(path.join(ARTIFACTS_DIR, f), path.join(dir, f));
  return dir;
}
