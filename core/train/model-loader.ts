/**
 * Builds models from what a workspace stores: backbones (weights blob + config) and adapter versions
 * (safetensors blob + manifest in the version's config). Backbones are cached per process because a
 * ViT-B is 330 MB and every run and prediction of a session uses the same one.
 */
import type { IntensityMode } from '../imaging/model-input';
import { loadBackboneFile } from '../model/checkpoint';
import { vitConfigSchema } from '../model/config';
import { parseAdapterConfig, type AdapterConfig } from '../model/adapter-config';
import { AdaptedViT } from '../model/model';
import { parseSafetensors } from '../model/safetensors';
import { ViTBackbone } from '../model/vit';
import type { AdapterVersion, Workspace } from '../store';

export interface LoadedWorkspaceBackbone {
  id: number;
  sha256: string;
  model: ViTBackbone;
}

const backboneCache = new Map<string, LoadedWorkspaceBackbone>();

export async function loadWorkspaceBackbone(ws: Workspace, backboneId: number): Promise<LoadedWorkspaceBackbone> {
  const record = ws.versions.backbone(backboneId);
  if (!record.weightsSha256) throw Object.assign(new Error(`backbone ${record.name} has no weights in this workspace`), { code: 'not-found' });
  const cached = backboneCache.get(record.weightsSha256);
  if (cached) return { ...cached, id: backboneId };
  const parsedConfig = vitConfigSchema.safeParse(record.config);
  const loaded = await loadBackboneFile(ws.blobs.locate(record.weightsSha256), parsedConfig.success ? { config: parsedConfig.data } : {});
  const entry = { id: backboneId, sha256: loaded.sha256, model: new ViTBackbone(loaded.config, loaded.weights) };
  backboneCache.set(record.weightsSha256, entry);
  return entry;
}

/** Frees cached backbones (tests, or when a workspace closes). */
export function releaseBackbones(): void {
  for (const b of backboneCache.values()) b.model.dispose();
  backboneCache.clear();
}

/** What a version's config holds (written by the training run). */
export interface VersionManifest {
  adapter: AdapterConfig;
  classes: string[];
  backbone: { id: number; sha256: string; config: unknown };
  /** `intensity` is always set on a manifest read through versionManifest ('legacy' for versions older than it). */
  preprocessing: { size: number; aspect: 'letterbox' | 'crop'; fundusFov: boolean; intensity?: IntensityMode };
  normalization: { mean: number[]; std: number[] };
  train: Record<string, unknown>;
  appVersion: string;
}

export function versionManifest(version: AdapterVersion): VersionManifest {
  const m = version.config as unknown as VersionManifest;
  if (!m?.adapter || !m.backbone) throw new Error(`version ${version.id} has no model manifest`);
  // Written before the job had an intensity: predicted as it was trained, by the display's default window.
  if (m.preprocessing && m.preprocessing.intensity === undefined) return { ...m, preprocessing: { ...m.preprocessing, intensity: 'legacy' } };
  return m;
}

/** An adapted model with a version's trained tensors. Refuses a version made for another backbone. */
export function loadVersionModel(ws: Workspace, version: AdapterVersion, backbone: LoadedWorkspaceBackbone): AdaptedViT {
  const manifest = versionManifest(version);
  if (manifest.backbone.sha256 !== backbone.sha256) {
    throw Object.assign(
      new Error(`version ${version.id} was trained on backbone ${manifest.backbone.sha256.slice(0, 12)}…, not ${backbone.sha256.slice(0, 12)}…`),
      { code: 'invalid-request' },
    );
  }
  const adapter = parseAdapterConfig(manifest.adapter, `version ${version.id}`);
  const contents = parseSafetensors(ws.versions.weights(version.id), `version ${version.id} weights`);
  const tensors = new Map([...contents.tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data }]));
  return AdaptedViT.fromTensors(backbone.model, adapter, tensors, `version ${version.id}`);
}
