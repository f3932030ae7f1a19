import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { BackboneInfoT, RunEventT, RunInfoT, VersionInfoT } from '../../../core/api/training-contract';
import { call, useGuardedActions } from './api';
import { TRAINING_DEFAULTS, type AdapterMethod, type AugmentationName, type StrategyName } from '../../../core/vocabulary';
import { useTasksStore } from './tasks';
import { useWorkspaceStore } from './workspace';

export interface TrainSettings {
  method: AdapterMethod;
  epochs: number;
  batchSize: number;
  lr: number;
  augmentation: AugmentationName;
  fresh: boolean;
  /** EPT/DVPT: adapters only in the last n blocks; '' (an empty number field) = all blocks. */
  lastLayers: number | '';
  /** Cache the frozen blocks before the first adapted one (the job's prefixCache 'auto'; false = 'off'). */
  prefixCache: boolean;
  /** Try learning rate × class weighting on the validation cases and keep the best (the job's grid). */
  grid: boolean;
}

/** Counter messages (images prepared, prefix tokens cached) replace their previous line in the run log. */
const COUNTER_MESSAGE = /^(preparing images|caching frozen blocks)/;

/** Backbones, training runs with live progress, adapter versions, prediction and suggestions. */
export const useTrainingStore = defineStore('training', () => {
  const backbones = ref<BackboneInfoT[]>([]);
  const runs = ref<RunInfoT[]>([]);
  const versions = ref<VersionInfoT[]>([]);
  const live = ref<RunEventT | null>(null);
  /** Loss per optimiser step and the validation metric per epoch of the run being watched. */
  const lossCurve = ref<{ step: number; loss: number }[]>([]);
  const metricCurve = ref<{ epoch: number; value: number | null; name: string }[]>([]);
  const log = ref<string[]>([]);
  /** The newest message of the watched run (cache decision, replicas, result), shown under the progress bar. */
  const lastMessage = ref<string | null>(null);
  const predictStatus = ref<string | null>(null);
  const suggestStatus = ref<string | null>(null);
  /** Where the last export went (shown under the versions table). */
  const exportStatus = ref<string | null>(null);
  const { busy, error, guard } = useGuardedActions();
  const settings = ref<TrainSettings>({
    method: TRAINING_DEFAULTS.method,
    epochs: TRAINING_DEFAULTS.epochs,
    batchSize: TRAINING_DEFAULTS.batchSize,
    lr: TRAINING_DEFAULTS.lr,
    augmentation: TRAINING_DEFAULTS.augmentation,
    fresh: false,
    lastLayers: '',
    prefixCache: true,
    grid: false,
  });
  let subscribed = false;

  const running = computed(() => runs.value.find((r) => r.status === 'running' || r.status === 'queued') ?? null);

  function onRunEvent(e: RunEventT): void {
    if (live.value?.runId !== e.runId) {
      lossCurve.value = [];
      metricCurve.value = [];
      log.value = [];
      lastMessage.value = null;
    }
    live.value = e;
    if (e.phase === 'training' && e.step !== undefined && e.loss !== undefined) lossCurve.value.push({ step: e.step, loss: e.loss });
    if (e.phase === 'validating' && e.epoch !== undefined && e.metric) metricCurve.value.push({ epoch: e.epoch, value: e.metric.value, name: e.metric.name });
    if (e.message) {
      const line = `${new Date().toLocaleTimeString()}  ${e.phase}: ${e.message}`;
      const previous = log.value[log.value.length - 1];
      const counter = e.message.match(COUNTER_MESSAGE)?.[1];
      if (counter && previous?.includes(`${e.phase}: ${counter}`)) log.value[log.value.length - 1] = line;
      else log.value.push(line);
      lastMessage.value = e.message;
    }
    if (e.error) log.value.push(`${new Date().toLocaleTimeString()}  failed: ${e.error}`);
    if (e.status !== 'running') void refresh();
  }

  function subscribe(): void {
    if (subscribed) return;
    subscribed = true;
    window.medtune.on('train.progress', onRunEvent);
    window.medtune.on('predict.progress', (p) => {
      predictStatus.value =
        p.phase === 'done' ? `Predicted ${p.done} cases.` : p.phase === 'failed' ? `Prediction failed: ${p.error}` : `${p.phase} ${p.done}/${p.total}`;
    });
  }

  async function refresh(): Promise<void> {
    subscribe();
    await guard(async () => {
      backbones.value = await call('backbones.list', {});
      runs.value = await call('train.runs', { limit: 20, ...useTasksStore().taskParam });
      versions.value = await call('versions.list', useTasksStore().taskParam).catch(() => []);
    });
  }

  const importBackbone = (file: string, name: string | undefined, normalization: 'imagenet' | 'half') =>
    guard(async () => {
      const b = await call('backbones.import', { file, normalization, ...(name ? { name } : {}) });
      backbones.value = [...backbones.value, b];
    });

  const start = () =>
    guard(async () => {
      const s = settings.value;
      const lastLayers = s.method !== 'linear' && typeof s.lastLayers === 'number' && s.lastLayers > 0 ? { lastLayers: s.lastLayers } : {};
      const run = await call('train.start', {
        ...useTasksStore().taskParam,
        method: s.method,
        epochs: s.epochs,
        batchSize: s.batchSize,
        lr: s.lr,
        augmentation: s.augmentation,
        fresh: s.fresh,
        prefixCache: s.prefixCache ? 'auto' : 'off',
        grid: s.grid,
        ...lastLayers,
      });
      live.value = { runId: run.id, taskId: run.taskId, status: 'running', phase: 'preparing', fraction: 0, message: 'queued' };
      lossCurve.value = [];
      metricCurve.value = [];
      log.value = [];
      lastMessage.value = null;
      runs.value = [run, ...runs.value];
    });

  const cancel = (runId: number) =>
    guard(async () => {
      await call('train.cancel', { runId });
    });

  const promote = (versionId: number) =>
    guard(async () => {
      await call('versions.promote', { versionId });
      versions.value = await call('versions.list', useTasksStore().taskParam);
    });

  const rollback = () =>
    guard(async () => {
      await call('versions.rollback', useTasksStore().taskParam);
      versions.value = await call('versions.list', useTasksStore().taskParam);
    });

  const workspace = useWorkspaceStore();
  /** The desktop app asks for the folder in a native dialog; browser mode types it (see VersionsTable). */
  const canChooseFolder = computed(() => workspace.app?.transport === 'electron');
  /** Browser mode's suggestion: the workspace folder's exports/ subfolder. */
  const defaultExportDir = computed(() => {
    const dir = workspace.info?.dir;
    if (!dir) return '';
    const sep = dir.includes('\\') && !dir.includes('/') ? '\\' : '/';
    return `${dir.replace(/[\\/]+$/, '')}${sep}exports`;
  });

  const exportVersion = (versionId: number, dir: string) =>
    guard(async () => {
      exportStatus.value = null;
      const r = await call('versions.export', { versionId, dir });
      const kB = r.files.reduce((sum, f) => sum + f.bytes, 0) / 1024;
      exportStatus.value = `Version ${versionId} exported to ${r.dir} (${r.files.map((f) => f.name).join(', ')}; ${kB.toFixed(0)} kB).`;
    });

  /** Desktop: pick the folder in a native dialog, then export; nothing happens when the dialog is cancelled. */
  async function chooseFolderAndExport(versionId: number): Promise<boolean> {
    let dir: string | undefined;
    const chosen = await guard(async () => {
      [dir] = (await call('desktop.choosePaths', { purpose: 'export-folder' })).paths;
    });
    return chosen && dir !== undefined && exportVersion(versionId, dir);
  }

  const predict = () =>
    guard(async () => {
      predictStatus.value = 'Predicting…';
      const r = await call('predict.start', { scope: 'all', ...useTasksStore().taskParam });
      predictStatus.value = `Version ${r.versionId} predicted ${r.predicted} cases in ${r.seconds.toFixed(1)} s.`;
    });

  const suggest = (strategy: StrategyName, count: number) =>
    guard(async () => {
      const r = await call('suggest.run', { strategy, count, ...useTasksStore().taskParam });
      suggestStatus.value = r.suggested.length
        ? `${r.suggested.length} cases suggested (${strategy}); see "Suggested next" in the worklist.` +
          (r.unpredicted ? ` ${r.unpredicted} unlabeled cases have no prediction yet.` : '') +
          (r.influence ? ` ${r.influence[0].toUpperCase()}${r.influence.slice(1)}.` : '')
        : 'Nothing to suggest: no unlabeled case has a prediction. Predict first.';
    });

  function reset(): void {
    backbones.value = [];
    runs.value = [];
    versions.value = [];
    live.value = null;
    lossCurve.value = [];
    metricCurve.value = [];
    log.value = [];
    lastMessage.value = null;
    predictStatus.value = null;
    suggestStatus.value = null;
    exportStatus.value = null;
  }

  return {
    backbones, runs, versions, live, lossCurve, metricCurve, log, lastMessage, predictStatus, suggestStatus, exportStatus, busy, error, settings, running,
    canChooseFolder, defaultExportDir,
    refresh, importBackbone, start, cancel, promote, rollback, exportVersion, chooseFolderAndExport, predict, suggest, reset,
  };
});
