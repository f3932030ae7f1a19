/**
 * Exports one adapter version of a workspace as a self-contained folder that other tools (or another
 * MedTune) can load: `adapter_model.safetensors` + `adapter_config.json` in the format
 * core/model/adapter-file.ts reads, and `medtune_version.json` with what a reader needs to trust it.
 */
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { APP_VERSION } from '../app-info';
import { parseAdapterConfig, type AdapterConfig } from '../model/adapter-config';
import { ADAPTER_MANIFEST_FILE, ADAPTER_WEIGHTS_FILE, saveAdapterVersion } from '../model/adapter-file';
import { numTokens, vitConfigSchema } from '../model/config';
import { parseSafetensors, type NamedTensorData } from '../model/safetensors';
import type { AdapterVersion, Workspace } from '../store';
import { versionManifest, type VersionManifest } from './model-loader';

export const VERSION_INFO_FILE = 'medtune_version.json';
export const VERSION_EXPORT_FORMAT_VERSION = 1;

/** Codes match the contract's error codes, so handlers can pass them through unchanged. */
export type VersionExportErrorCode = 'conflict' | 'io-error' | 'invalid' | 'not-found';

export class VersionExportError extends Error {
  constructor(
    readonly code: VersionExportErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'VersionExportError';
  }
}

export interface ExportedFile {
  name: string;
  bytes: number;
}

export interface VersionExport {
  /** The folder that was written: `<dir>/medtune-<task>-v<id>`. */
  dir: string;
  files: ExportedFile[];
}

/** `medtune-<task-name-slug>-v<id>`: safe on every file system, readable by people. */
export function exportFolderName(taskName: string, versionId: number): string {
  const slug = taskName
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return `medtune-${slug || 'task'}-v${versionId}`;
}

/**
 * Writes version `versionId` into a new folder under `parentDir` (created if missing). Refuses a target
 * that already exists and a parent that cannot be written. Everything is written into a hidden temporary
 * folder beside the target and renamed at the end, so a failure never leaves half an export behind.
 */
export async function exportVersion(ws: Workspace, versionId: number, parentDir: string): Promise<VersionExport> {
  const version = ws.versions.get(versionId);
  const task = ws.tasks.get(version.taskId);
  const manifest = readManifest(version);
  const backboneConfig = vitConfigSchema.safeParse(manifest.backbone.config);
  if (!backboneConfig.success) throw new VersionExportError('invalid', `version ${versionId}: its stored backbone config is not a ViT config`);
  const weights = ws.versions.weights(versionId); // checked against its SHA-256
  let adapter: AdapterConfig;
  const tensors = new Map<string, NamedTensorData>();
  try {
    adapter = parseAdapterConfig(manifest.adapter, `version ${versionId}`);
    for (const [name, t] of parseSafetensors(weights, `version ${versionId} weights`).tensors) tensors.set(name, { shape: t.shape, data: t.data });
  } catch (err) {
    throw new VersionExportError('invalid', `version ${versionId} cannot be exported: ${(err as Error).message}`);
  }

  const parent = path.resolve(parentDir);
  const target = path.join(parent, exportFolderName(task.name, version.id));
  await ensureWritableDir(parent);
  if (await exists(target)) throw new VersionExportError('conflict', `${target} already exists; choose another folder or remove it first`);

  const tmp = path.join(parent, `.${path.basename(target)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(tmp);
    const metrics = version.metrics as StoredMetrics;
    await saveAdapterVersion(
      tmp,
      {
        versionId: String(version.id),
        parentVersionId: version.parentId !== undefined ? String(version.parentId) : null,
        adapter,
        classNames: manifest.classes,
        backbone: { sha256: manifest.backbone.sha256, config: backboneConfig.data },
        metrics: numericMetrics(metrics),
        trainingSet: { labelSnapshot: version.labelSnapshot, trainCount: metrics.trainCount, valCount: metrics.valCount },
        createdAt: new Date(version.createdAt),
      },
      tensors,
    );
    const weightsSha256 = createHash('sha256').update(await readFile(path.join(tmp, ADAPTER_WEIGHTS_FILE))).digest('hex');
    const info = versionInfo(ws, version, task, manifest, backboneConfig.data, weightsSha256);
    await writeFile(path.join(tmp, VERSION_INFO_FILE), `${JSON.stringify(info, null, 2)}\n`);
    const files: ExportedFile[] = [];
    for (const name of [ADAPTER_WEIGHTS_FILE, ADAPTER_MANIFEST_FILE, VERSION_INFO_FILE]) files.push({ name, bytes: (await stat(path.join(tmp, name))).size });
    // A target made meanwhile would be replaced by rename if empty: look once more right before.
    if (await exists(target)) throw new VersionExportError('conflict', `${target} already exists; choose another folder or remove it first`);
    await rename(tmp, target);
    return { dir: target, files };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    if (err instanceof VersionExportError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('E')) {
      throw new VersionExportError('io-error', `cannot write the export into ${parent}: ${(err as Error).message}`);
    }
    // The stored tensors do not fit the stored adapter config (a damaged or foreign version).
    throw new VersionExportError('invalid', `version ${versionId} cannot be exported: ${(err as Error).message}`);
  }
}

type StoredMetrics = {
  selection?: { name?: string; value?: number | null; higherIsBetter?: boolean };
  accuracy?: number;
  macroAuc?: { macro?: number };
  kappaQuadratic?: number;
  kappaLinear?: number;
  mAP?: { mean?: number };
  f1?: { macroF1?: number };
  confusionMatrix?: number[][];
  n?: number;
  trainCount?: number;
  valCount?: number;
  bestEpoch?: number;
};

/** adapter_config.json holds numbers only (its schema); non-finite values are left out. */
function numericMetrics(m: StoredMetrics): Record<string, number> {
  const out: Record<string, number> = {};
  const put = (name: string, value: unknown) => {
    if (typeof value === 'number' && Number.isFinite(value)) out[name] = value;
  };
  if (m.selection?.name) put(`selection.${m.selection.name}`, m.selection.value);
  put('accuracy', m.accuracy);
  put('macroAuc', m.macroAuc?.macro);
  put('kappaQuadratic', m.kappaQuadratic);
  put('kappaLinear', m.kappaLinear);
  put('macroF1', m.f1?.macroF1);
  put('mAP', m.mAP?.mean);
  put('valCount', m.valCount ?? m.n);
  put('trainCount', m.trainCount);
  put('bestEpoch', m.bestEpoch);
  return out;
}

function versionInfo(
  ws: Workspace,
  version: AdapterVersion,
  task: { name: string; kind: string },
  manifest: VersionManifest,
  backboneConfig: Parameters<typeof numTokens>[0],
  weightsSha256: string,
) {
  const m = version.metrics as StoredMetrics;
  const snapshot = version.labelSnapshot as { labelCount?: number; byClass?: Record<string, number> };
  let backboneName: string | undefined;
  try {
    backboneName = version.backboneId !== undefined ? ws.versions.backbone(version.backboneId).name : undefined;
  } catch {
    backboneName = undefined;
  }
  const finite = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : null);
  return {
    format: 'medtune-version-export',
    formatVersion: VERSION_EXPORT_FORMAT_VERSION,
    versionId: version.id,
    parentVersionId: version.parentId ?? null,
    status: version.status,
    task: { name: task.name, kind: task.kind, classes: manifest.classes },
    method: version.method,
    adapter: manifest.adapter,
    labelCount: snapshot.labelCount ?? null,
    labelsByClass: snapshot.byClass ?? null,
    metrics: {
      selection: m.selection ? { name: m.selection.name ?? null, value: finite(m.selection.value), higherIsBetter: m.selection.higherIsBetter ?? true } : null,
      accuracy: finite(m.accuracy),
      macroAuc: finite(m.macroAuc?.macro),
      kappaQuadratic: finite(m.kappaQuadratic),
      kappaLinear: finite(m.kappaLinear),
      mAP: finite(m.mAP?.mean),
      confusionMatrix: m.confusionMatrix ?? null,
      validationCount: finite(m.valCount ?? m.n),
      trainCount: finite(m.trainCount),
    },
    backbone: {
      name: backboneName ?? null,
      sha256: manifest.backbone.sha256,
      config: manifest.backbone.config,
      tokens: numTokens(backboneConfig),
    },
    preprocessing: manifest.preprocessing ?? null,
    normalization: manifest.normalization ?? null,
    files: { [ADAPTER_WEIGHTS_FILE]: { sha256: weightsSha256 }, [ADAPTER_MANIFEST_FILE]: {} },
    createdAt: version.createdAt,
    trainedWithAppVersion: manifest.appVersion ?? null,
    exportedAt: new Date().toISOString(),
    appVersion: APP_VERSION,
  };
}

function readManifest(version: AdapterVersion): VersionManifest {
  try {
    const m = versionManifest(version);
    if (!Array.isArray(m.classes) || typeof m.backbone.sha256 !== 'string') throw new Error('incomplete');
    return m;
  } catch {
    throw new VersionExportError('invalid', `version ${version.id} has no model manifest (it was not made by a training run) and cannot be exported`);
  }
}

async function ensureWritableDir(dir: string): Promise<void> {
  const existing = await stat(dir).catch(() => null);
  if (existing && !existing.isDirectory()) throw new VersionExportError('io-error', `${dir} is a file, not a folder`);
  if (!existing) {
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw new VersionExportError('io-error', `cannot create the export folder ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  try {
    await access(dir, fsConstants.W_OK);
  } catch {
    throw new VersionExportError('io-error', `${dir} is not writable`);
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
