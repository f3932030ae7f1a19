import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { APP_VERSION } from '../app-info';
import { ADAPTER_METHODS } from '../vocabulary';
import { adapterConfigSchema, taskKindSchema, type AdapterConfig } from './adapter-config';
import { numTokens, vitConfigSchema, type ViTConfig } from './config';
import { validateAdapterTensors } from './model';
import { parseSafetensors, serializeSafetensors, type NamedTensorData } from './safetensors';

/**
 * One adapter version on disk, like Hugging Face PEFT: `adapter_model.safetensors` (adapter and
 * head tensors) + `adapter_config.json` (this manifest).
 */
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';
export const ADAPTER_MANIFEST_FILE = 'adapter_config.json';
export const ADAPTER_FORMAT_VERSION = 1;

export const adapterManifestSchema = z.object({
  format: z.literal('medtune-adapter'),
  formatVersion: z.literal(ADAPTER_FORMAT_VERSION),
  /** This version's id and the version it was trained from (null for a first version). */
  versionId: z.string().min(1),
  parentVersionId: z.string().min(1).nullable(),
  method: z.enum(ADAPTER_METHODS),
  /** The full adapter config: method, hyper-parameters, task and class count. */
  adapter: adapterConfigSchema,
  labelSchema: z.object({
    task: taskKindSchema,
    classNames: z.array(z.string()).min(1),
  }),
  backbone: z.object({
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    config: vitConfigSchema,
    tokens: z.number().int().positive(),
  }),
  /** Free-form description of the training-set snapshot (e.g. item ids and label revision). */
  trainingSet: z.record(z.string(), z.unknown()).optional(),
  metrics: z.record(z.string(), z.number()),
  createdAt: z.string(),
  appVersion: z.string(),
});
export type AdapterManifest = z.infer<typeof adapterManifestSchema>;

export class AdapterFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdapterFileError';
  }
}

export interface NewAdapterVersion {
  versionId: string;
  parentVersionId?: string | null;
  adapter: AdapterConfig;
  classNames: string[];
  backbone: { sha256: string; config: ViTConfig };
  metrics?: Record<string, number>;
  trainingSet?: Record<string, unknown>;
  createdAt?: Date;
}

/** Writes both files into `dir` (created if needed); each file is replaced atomically. */
export async function saveAdapterVersion(
  dir: string,
  version: NewAdapterVersion,
  tensors: Map<string, NamedTensorData>,
): Promise<AdapterManifest> {
  const manifest: AdapterManifest = {
    format: 'medtune-adapter',
    formatVersion: ADAPTER_FORMAT_VERSION,
    versionId: version.versionId,
    parentVersionId: version.parentVersionId ?? null,
    method: version.adapter.method,
    adapter: version.adapter,
    labelSchema: { task: version.adapter.task, classNames: version.classNames },
    backbone: { sha256: version.backbone.sha256, config: version.backbone.config, tokens: numTokens(version.backbone.config) },
    trainingSet: version.trainingSet,
    metrics: version.metrics ?? {},
    createdAt: (version.createdAt ?? new Date()).toISOString(),
    appVersion: APP_VERSION,
  };
  checkManifestConsistency(adapterManifestSchema.parse(manifest), dir);
  validateAdapterTensors(tensors, manifest.backbone.config, manifest.adapter, dir);
  await mkdir(dir, { recursive: true });
  const ordered = [...tensors.entries()].sort(([a], [b]) => a.localeCompare(b));
  await writeAtomically(path.join(dir, ADAPTER_WEIGHTS_FILE), serializeSafetensors(ordered, { format: 'pt', method: manifest.method }));
  await writeAtomically(path.join(dir, ADAPTER_MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

async function writeAtomically(filePath: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${filePath}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, filePath);
}

function checkManifestConsistency(manifest: AdapterManifest, source: string): void {
  if (manifest.method !== manifest.adapter.method) {
    throw new AdapterFileError(`${source}: method "${manifest.method}" differs from adapter.method "${manifest.adapter.method}"`);
  }
  if (manifest.labelSchema.classNames.length !== manifest.adapter.numClasses) {
    throw new AdapterFileError(
      `${source}: ${manifest.labelSchema.classNames.length} class names but the head has ${manifest.adapter.numClasses} classes`,
    );
  }
  if (manifest.labelSchema.task !== manifest.adapter.task) {
    throw new AdapterFileError(`${source}: label task "${manifest.labelSchema.task}" differs from adapter task "${manifest.adapter.task}"`);
  }
}

/** Reads and validates the manifest only. */
export async function readAdapterManifest(dir: string): Promise<AdapterManifest> {
  const file = path.join(dir, ADAPTER_MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new AdapterFileError(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AdapterFileError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = adapterManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AdapterFileError(`${file}: invalid manifest at "${issue.path.join('.') || '(root)'}": ${issue.message}`);
  }
  checkManifestConsistency(parsed.data, file);
  return parsed.data;
}

/**
 * Loads an adapter version for a given backbone. Refuses one trained on another backbone
 * (SHA-256) or for another token count (image size / patch size), saying which.
 */
export async function loadAdapterVersion(
  dir: string,
  backbone: { sha256: string; config: ViTConfig },
): Promise<{ manifest: AdapterManifest; tensors: Map<string, NamedTensorData> }> {
  const manifest = await readAdapterManifest(dir);
  const problems: string[] = [];
  if (manifest.backbone.sha256 !== backbone.sha256) {
    problems.push(
      `backbone hash mismatch: the adapter was trained on backbone sha256 ${manifest.backbone.sha256.slice(0, 12)}…, ` +
        `the loaded backbone is ${backbone.sha256.slice(0, 12)}…`,
    );
  }
  const tokens = numTokens(backbone.config);
  if (manifest.backbone.tokens !== tokens) {
    problems.push(
      `token count mismatch: the adapter expects ${manifest.backbone.tokens} tokens ` +
        `(${manifest.backbone.config.imageSize}px, patch ${manifest.backbone.config.patchSize}), ` +
        `the backbone gives ${tokens} (${backbone.config.imageSize}px, patch ${backbone.config.patchSize})`,
    );
  }
  if (problems.length > 0) throw new AdapterFileError(`${dir}: cannot use this adapter: ${problems.join('; ')}`);
  const weightsFile = path.join(dir, ADAPTER_WEIGHTS_FILE);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(weightsFile);
  } catch (err) {
    throw new AdapterFileError(`${weightsFile}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const tensors = new Map<string, NamedTensorData>();
  for (const [name, t] of parseSafetensors(bytes, weightsFile).tensors) tensors.set(name, { shape: t.shape, data: t.data });
  validateAdapterTensors(tensors, backbone.config, manifest.adapter, weightsFile);
  return { manifest, tensors };
}
