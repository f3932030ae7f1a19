import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  inferViTConfig,
  ModelConfigError,
  mlpHiddenDim,
  numTokens,
  parseViTConfigJson,
  validateViTConfig,
  type ViTConfig,
} from './config';
import { parseSafetensors, type NamedTensorData, type SafetensorsContents } from './safetensors';
import { resizePosEmbed } from './pos-embed';

/** Backbone tensors under timm names, validated against a config. */
export type BackboneWeights = Map<string, NamedTensorData>;
export type CheckpointNaming = 'timm' | 'hf';

export interface LoadedBackbone {
  filePath: string;
  sha256: string;
  naming: CheckpointNaming;
  config: ViTConfig;
  /** Where the config came from: a JSON path, "given" or "inferred from shapes". */
  configSource: string;
  /** Where the head count came from (the weights do not store it): the config file, --heads or the known-architecture table. */
  headsFrom: string;
  assumptions: string[];
  weights: BackboneWeights;
  /** Set when the position embeddings were resized from another grid. */
  resizedPosEmbedFrom?: number;
}

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

/** Keys that belong to classifier heads or poolers: not part of the frozen feature extractor. */
const IGNORED_TIMM = /^(head|fc_norm|head_drop)\./;
const IGNORED_HF = /^(vit\.)?(pooler\.|embeddings\.mask_token$)|^classifier\./;

export function detectNaming(keys: Iterable<string>): CheckpointNaming {
  for (const key of keys) {
    if (/^(vit\.)?(embeddings|encoder)\./.test(key) || key === 'vit.layernorm.weight') return 'hf';
  }
  return 'timm';
}

const HF_BLOCK_PARTS: Record<string, string> = {
  layernorm_before: 'norm1',
  'attention.output.dense': 'attn.proj',
  layernorm_after: 'norm2',
  'intermediate.dense': 'mlp.fc1',
  'output.dense': 'mlp.fc2',
};

/** Renames a Hugging Face `ViTModel` state dict to timm names; q, k, v become one qkv. */
export function hfToTimm(tensors: Map<string, NamedTensorData>, source: string): Map<string, NamedTensorData> {
  const out = new Map<string, NamedTensorData>();
  const qkvParts = new Map<string, Partial<Record<'query' | 'key' | 'value', NamedTensorData>>>();
  for (const [hfKey, tensor] of tensors) {
    if (IGNORED_HF.test(hfKey)) continue;
    const key = hfKey.replace(/^vit\./, '');
    let m: RegExpExecArray | null;
    if (key === 'embeddings.cls_token') out.set('cls_token', tensor);
    else if (key === 'embeddings.position_embeddings') out.set('pos_embed', tensor);
    else if ((m = /^embeddings\.patch_embeddings\.projection\.(weight|bias)$/.exec(key))) out.set(`patch_embed.proj.${m[1]}`, tensor);
    else if ((m = /^layernorm\.(weight|bias)$/.exec(key))) out.set(`norm.${m[1]}`, tensor);
    else if ((m = /^encoder\.layer\.(\d+)\.attention\.attention\.(query|key|value)\.(weight|bias)$/.exec(key))) {
      const target = `blocks.${m[1]}.attn.qkv.${m[3]}`;
      const parts = qkvParts.get(target) ?? {};
      parts[m[2] as 'query' | 'key' | 'value'] = tensor;
      qkvParts.set(target, parts);
    } else if ((m = /^encoder\.layer\.(\d+)\.(.+)\.(weight|bias)$/.exec(key)) && HF_BLOCK_PARTS[m[2]]) {
      out.set(`blocks.${m[1]}.${HF_BLOCK_PARTS[m[2]]}.${m[3]}`, tensor);
    } else {
      throw new CheckpointError(`${source}: unknown tensor "${hfKey}" for a Hugging Face ViT checkpoint`);
    }
  }
  for (const [target, parts] of qkvParts) {
    const names = ['query', 'key', 'value'] as const;
    for (const name of names) {
      if (!parts[name]) {
        const layer = target.split('.')[1];
        const kind = target.endsWith('weight') ? 'weight' : 'bias';
        throw new CheckpointError(`${source}: missing tensor "vit.encoder.layer.${layer}.attention.attention.${name}.${kind}"`);
      }
    }
    const [q, k, v] = names.map((n) => parts[n]!);
    for (const [n, t] of [['key', k], ['value', v]] as const) {
      if (t.shape.join() !== q.shape.join()) {
        throw new CheckpointError(`${source}: ${target} ${n} has shape [${t.shape}] but query has [${q.shape}]`);
      }
    }
    // Output rows q | k | v, exactly timm's qkv layout.
    const data = new Float32Array(q.data.length * 3);
    data.set(q.data, 0);
    data.set(k.data, q.data.length);
    data.set(v.data, 2 * q.data.length);
    out.set(target, { shape: [q.shape[0] * 3, ...q.shape.slice(1)], data });
  }
  return out;
}

export function timmOnly(tensors: Map<string, NamedTensorData>, source: string): Map<string, NamedTensorData> {
  const out = new Map<string, NamedTensorData>();
  for (const [key, tensor] of tensors) if (!IGNORED_TIMM.test(key)) out.set(key, tensor);
  void source;
  return out;
}

/** Every tensor the backbone needs, with its shape, under timm names. */
export function expectedBackboneShapes(config: ViTConfig): Map<string, number[]> {
  const D = config.embedDim;
  const hidden = mlpHiddenDim(config);
  const P = config.patchSize;
  const shapes = new Map<string, number[]>([
    ['patch_embed.proj.weight', [D, 3, P, P]],
    ['patch_embed.proj.bias', [D]],
    ['cls_token', [1, 1, D]],
    ['pos_embed', [1, numTokens(config), D]],
  ]);
  for (let i = 0; i < config.depth; i++) {
    const b = `blocks.${i}.`;
    shapes.set(`${b}norm1.weight`, [D]).set(`${b}norm1.bias`, [D]);
    shapes.set(`${b}attn.qkv.weight`, [3 * D, D]);
    if (config.qkvBias) shapes.set(`${b}attn.qkv.bias`, [3 * D]);
    shapes.set(`${b}attn.proj.weight`, [D, D]).set(`${b}attn.proj.bias`, [D]);
    shapes.set(`${b}norm2.weight`, [D]).set(`${b}norm2.bias`, [D]);
    shapes.set(`${b}mlp.fc1.weight`, [hidden, D]).set(`${b}mlp.fc1.bias`, [hidden]);
    shapes.set(`${b}mlp.fc2.weight`, [D, hidden]).set(`${b}mlp.fc2.bias`, [D]);
  }
  if (config.finalNorm) shapes.set('norm.weight', [D]).set('norm.bias', [D]);
  return shapes;
}

export function countBackboneParameters(config: ViTConfig): number {
  let total = 0;
  for (const shape of expectedBackboneShapes(config).values()) total += shape.reduce((a, b) => a * b, 1);
  return total;
}

/**
 * Checks timm-named tensors against the config: unknown, missing and mis-shaped keys are errors
 * naming the key. A position embedding for another square grid is bicubically resized.
 */
export function validateBackboneWeights(
  tensors: Map<string, NamedTensorData>,
  config: ViTConfig,
  source: string,
): { weights: BackboneWeights; resizedPosEmbedFrom?: number } {
  const expected = expectedBackboneShapes(config);
  for (const key of tensors.keys()) {
    if (!expected.has(key)) throw new CheckpointError(`${source}: unknown tensor "${key}" for a ViT of depth ${config.depth}`);
  }
  const weights: BackboneWeights = new Map();
  let resizedPosEmbedFrom: number | undefined;
  for (const [key, shape] of expected) {
    let tensor = tensors.get(key);
    if (!tensor) throw new CheckpointError(`${source}: missing tensor "${key}"`);
    if (key === 'pos_embed' && tensor.shape.length === 3 && tensor.shape[2] === shape[2] && tensor.shape[1] !== shape[1]) {
      const oldGrid = Math.round(Math.sqrt(tensor.shape[1] - 1));
      if (oldGrid * oldGrid === tensor.shape[1] - 1 && tensor.shape[0] === 1) {
        const newGrid = config.imageSize / config.patchSize;
        tensor = { shape, data: resizePosEmbed(tensor.data, oldGrid, newGrid, shape[2]) };
        resizedPosEmbedFrom = oldGrid;
      }
    }
    if (tensor.shape.join(',') !== shape.join(',')) {
      throw new CheckpointError(`${source}: tensor "${key}" has shape [${tensor.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
    weights.set(key, tensor);
  }
  return { weights, resizedPosEmbedFrom };
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Config JSON candidates beside a weights file, most specific first. */
export function configCandidates(weightsPath: string): string[] {
  const dir = path.dirname(weightsPath);
  const stem = path.basename(weightsPath).replace(/\.safetensors$/, '');
  return [...new Set([path.join(dir, `${stem}.json`), path.join(dir, 'backbone.json'), path.join(dir, 'config.json')])];
}

async function findConfigBeside(weightsPath: string): Promise<{ config: ViTConfig; source: string } | null> {
  for (const candidate of configCandidates(weightsPath)) {
    let text: string;
    try {
      text = await readFile(candidate, 'utf8');
    } catch {
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new ModelConfigError(`${candidate}: not valid JSON (${(err as Error).message})`);
    }
    const config = parseViTConfigJson(json, candidate);
    if (config) return { config, source: candidate };
  }
  return null;
}

export interface LoadBackboneOptions {
  /** Use this config instead of looking for one beside the file. */
  config?: ViTConfig;
  /** Run at another input size: position embeddings are resized. */
  imageSize?: number;
  /** Head count for weights without a config (it cannot be read from the weights). */
  numHeads?: number;
}

/** Turns parsed safetensors into validated timm-named backbone weights. */
export function backboneFromContents(
  contents: SafetensorsContents,
  source: string,
  configChoice: { config: ViTConfig; source: string } | null,
  imageSize?: number,
  numHeads?: number,
): Omit<LoadedBackbone, 'filePath' | 'sha256'> {
  const naming = detectNaming(contents.tensors.keys());
  const timmTensors = naming === 'hf' ? hfToTimm(contents.tensors, source) : timmOnly(contents.tensors, source);
  let config: ViTConfig;
  let configSource: string;
  let assumptions: string[] = [];
  let headsFrom: string;
  if (configChoice) {
    config = configChoice.config;
    configSource = configChoice.source;
    headsFrom = `the config (${configChoice.source})`;
    if (numHeads !== undefined && numHeads !== config.numHeads) {
      throw new CheckpointError(`${source}: --heads ${numHeads} contradicts the config ${configChoice.source} (numHeads ${config.numHeads})`);
    }
  } else {
    const shapes = new Map([...timmTensors].map(([k, t]) => [k, t.shape]));
    ({ config, assumptions, headsFrom } = inferViTConfig(shapes, naming, source, numHeads));
    configSource = 'inferred from shapes';
  }
  if (imageSize !== undefined && imageSize !== config.imageSize) {
    config = validateViTConfig({ ...config, imageSize }, source);
  }
  const { weights, resizedPosEmbedFrom } = validateBackboneWeights(timmTensors, config, source);
  return { naming, config, configSource, headsFrom, assumptions, weights, resizedPosEmbedFrom };
}

/** Reads a backbone `.safetensors` (timm or HF names), its config and its SHA-256. */
export async function loadBackboneFile(filePath: string, options: LoadBackboneOptions = {}): Promise<LoadedBackbone> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(filePath);
  } catch (err) {
    throw new CheckpointError(`${filePath}: cannot read file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const contents = parseSafetensors(bytes, filePath);
  const configChoice = options.config ? { config: options.config, source: 'given' } : await findConfigBeside(filePath);
  const loaded = backboneFromContents(contents, filePath, configChoice, options.imageSize, options.numHeads);
  return { filePath, sha256: sha256Hex(bytes), ...loaded };
}
