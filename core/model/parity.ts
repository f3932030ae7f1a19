import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { parseAdapterConfig } from './adapter-config';
import { loadBackboneFile, type LoadedBackbone } from './checkpoint';
import { AdaptedViT } from './model';
import { relativeError } from './ops';
import { readSafetensorsFile, type NamedTensorData } from './safetensors';
import { ViTBackbone } from './vit';

/**
 * Parity against reference fixtures laid out like shared/fixtures/parity: backbone*.safetensors
 * (+ backbone.json), adapter-{method}.{json,safetensors} and expected-{method}.safetensors.
 * Shared by the unit test and `medtune model check-fixtures`.
 */

export const OUTPUT_TOLERANCE = 1e-4;
export const GRADIENT_TOLERANCE = 1e-3;

export interface ParityRow {
  method: string;
  /** Backbone file name, e.g. backbone-timm.safetensors. */
  backbone: string;
  tensor: string;
  relativeError: number;
  tolerance: number;
  pass: boolean;
  note?: string;
}

export interface ParityFixtureSet {
  dir: string;
  backbones: string[];
  methods: Array<{ method: string; adapterConfig: string; adapterWeights: string; expected: string }>;
}

export class ParityFixtureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParityFixtureError';
  }
}

export async function discoverParityFixtures(dir: string): Promise<ParityFixtureSet> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (err) {
    throw new ParityFixtureError(`${dir}: cannot list folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const backbones = names.filter((n) => /^backbone.*\.safetensors$/.test(n));
  if (backbones.length === 0) throw new ParityFixtureError(`${dir}: no backbone*.safetensors file`);
  const methods: ParityFixtureSet['methods'] = [];
  for (const name of names) {
    const m = /^adapter-(.+)\.json$/.exec(name);
    if (!m) continue;
    const method = m[1];
    for (const needed of [`adapter-${method}.safetensors`, `expected-${method}.safetensors`]) {
      if (!names.includes(needed)) throw new ParityFixtureError(`${dir}: ${name} has no matching ${needed}`);
    }
    methods.push({
      method,
      adapterConfig: path.join(dir, name),
      adapterWeights: path.join(dir, `adapter-${method}.safetensors`),
      expected: path.join(dir, `expected-${method}.safetensors`),
    });
  }
  if (methods.length === 0) throw new ParityFixtureError(`${dir}: no adapter-<method>.json file`);
  return { dir, backbones: backbones.map((b) => path.join(dir, b)), methods };
}

function expectedTensor(expected: Map<string, NamedTensorData>, key: string, source: string): NamedTensorData {
  const t = expected.get(key);
  if (!t) throw new ParityFixtureError(`${source}: missing tensor "${key}"`);
  return t;
}

/** Runs one adapter fixture on one loaded backbone and compares every output and gradient. */
export async function compareMethod(
  loaded: LoadedBackbone,
  backbone: ViTBackbone,
  fixture: ParityFixtureSet['methods'][number],
): Promise<ParityRow[]> {
  const adapterConfig = parseAdapterConfig(JSON.parse(await readFile(fixture.adapterConfig, 'utf8')), fixture.adapterConfig);
  const adapterTensors = (await readSafetensorsFile(fixture.adapterWeights)).tensors;
  const expected = (await readSafetensorsFile(fixture.expected)).tensors;
  const images = expectedTensor(expected, 'input.images_nchw', fixture.expected);
  const labels = expectedTensor(expected, 'input.labels', fixture.expected);
  const model = AdaptedViT.fromTensors(backbone, adapterConfig, adapterTensors, fixture.adapterWeights);
  const depth = backbone.config.depth;
  const computed = new Map<string, Float32Array>();
  try {
    // Read back asynchronously: webgpu in Node cannot read a GPU tensor synchronously (no dataSync).
    const named = tf.tidy(() => {
      const x = tf.tensor4d(images.data, images.shape as [number, number, number, number]);
      const y = tf.tensor(labels.data, labels.shape);
      const out = model.forward(x, { layout: 'NCHW', collectBlocks: [0, depth - 1] });
      const { loss, grads } = model.lossAndGradients(x, y, 'NCHW');
      const list: Array<[string, tf.Tensor]> = [
        ['features', out.features],
        ['logits', out.logits],
        ['block0_output', out.blockOutputs.get(0)!],
        ['last_block_output', out.blockOutputs.get(depth - 1)!],
        ['loss', loss],
        ...[...grads].map(([name, g]): [string, tf.Tensor] => [`grad.${name}`, g]),
      ];
      return list;
    });
    try {
      for (const [key, t] of named) computed.set(key, (await t.data()) as Float32Array);
    } finally {
      tf.dispose(named.map(([, t]) => t));
    }
  } finally {
    model.dispose();
  }
  const rows: ParityRow[] = [];
  const backboneName = path.basename(loaded.filePath);
  const keys = [...computed.keys()];
  // Every reference gradient must correspond to a trainable tensor, and vice versa.
  for (const key of expected.keys()) if (key.startsWith('grad.') && !computed.has(key)) keys.push(key);
  for (const key of keys) {
    const tolerance = key.startsWith('grad.') ? GRADIENT_TOLERANCE : OUTPUT_TOLERANCE;
    const ref = expected.get(key);
    const actual = computed.get(key);
    let relErr = Infinity;
    let note: string | undefined;
    if (!ref) note = 'not in the expected file';
    else if (!actual) note = 'not a trainable tensor of this model';
    else if (ref.data.length !== actual.length) note = `size ${actual.length}, expected ${ref.data.length}`;
    else relErr = relativeError(actual, ref.data);
    rows.push({ method: fixture.method, backbone: backboneName, tensor: key, relativeError: relErr, tolerance, pass: relErr <= tolerance, note });
  }
  return rows;
}

/** All methods × all backbone namings on the current tfjs backend. */
export async function runParityCheck(dir: string, onRow?: (row: ParityRow) => void): Promise<ParityRow[]> {
  const fixtures = await discoverParityFixtures(dir);
  const rows: ParityRow[] = [];
  for (const backboneFile of fixtures.backbones) {
    const loaded = await loadBackboneFile(backboneFile);
    const backbone = new ViTBackbone(loaded.config, loaded.weights);
    try {
      for (const fixture of fixtures.methods) {
        for (const row of await compareMethod(loaded, backbone, fixture)) {
          rows.push(row);
          onRow?.(row);
        }
      }
    } finally {
      backbone.dispose();
    }
  }
  return rows;
}

export function formatParityRow(row: ParityRow): string {
  const err = Number.isFinite(row.relativeError) ? row.relativeError.toExponential(2) : 'n/a';
  return `${row.pass ? 'PASS' : 'FAIL'}  ${row.method.padEnd(6)} ${row.backbone.padEnd(26)} ${row.tensor.padEnd(36)} rel ${err.padStart(9)}  (tol ${row.tolerance.toExponential(0)})${row.note ? `  ${row.note}` : ''}`;
}
