import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../core/model/backend';
import { parseAdapterConfig, trainableShapes } from '../../../core/model/adapter-config';
import { parseViTConfigJson } from '../../../core/model/config';
import { runParityCheck, type ParityRow } from '../../../core/model/parity';
import { PARITY_DIR } from '../../helpers/paths';

// The float64 PyTorch reference in shared/fixtures/parity, matched on both pure-JS backends.
const METHODS = ['linear', 'ept', 'dvpt'] as const;
const BACKBONES = ['backbone-timm.safetensors', 'backbone-hf.safetensors'];
const OUTPUTS = ['features', 'logits', 'loss', 'block0_output', 'last_block_output'];

async function expectedGradNames(method: string): Promise<string[]> {
  const backbone = parseViTConfigJson(JSON.parse(await readFile(path.join(PARITY_DIR, 'backbone.json'), 'utf8')), 'backbone.json')!;
  const adapter = parseAdapterConfig(JSON.parse(await readFile(path.join(PARITY_DIR, `adapter-${method}.json`), 'utf8')), method);
  return [...trainableShapes(backbone, adapter).keys()].map((n) => `grad.${n}`);
}

describe.each(['cpu', 'wasm'])('parity with the PyTorch reference on the %s backend', (backend) => {
  let rows: ParityRow[];
  beforeAll(async () => {
    const choice = await initBackend({ force: backend });
    expect(choice.tfBackend).toBe(backend);
    rows = await runParityCheck(PARITY_DIR);
  });

  for (const method of METHODS) {
    for (const backboneFile of BACKBONES) {
      it(`${method} adapter on ${backboneFile}: outputs ≤ 1e-4, gradients ≤ 1e-3`, async () => {
        const mine = rows.filter((r) => r.method === method && r.backbone === backboneFile);
        const names = mine.map((r) => r.tensor).sort();
        expect(names).toEqual([...OUTPUTS, ...(await expectedGradNames(method))].sort());
        for (const row of mine) {
          const limit = row.tensor.startsWith('grad.') ? 1e-3 : 1e-4;
          expect(row.tolerance).toBe(limit);
          expect(row.relativeError, `${row.tensor}${row.note ? ` (${row.note})` : ''}`).toBeLessThanOrEqual(limit);
          expect(row.pass).toBe(true);
        }
      });
    }
  }
});
