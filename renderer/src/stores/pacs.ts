import { defineStore } from 'pinia';
import { ref, watch } from 'vue';
import type { RequestOf } from '../../../core/api/contract';
import type { PacsConnectionInfoT, PacsProgressT, PacsQueryT, PacsRetrieveReportT, PacsSeriesT, PacsStudyT } from '../../../core/api/pacs-contract';
import { call, friendlyMessage, useGuardedActions } from './api';

/** A retrieve choice: a whole study (`studyUid`) or one of its series (`studyUid/seriesUid`). */
export const choiceKey = (studyUid: string, seriesUid?: string) => (seriesUid ? `${studyUid}/${seriesUid}` : studyUid);

/**
 * The PACS panel's state: the workspace's connections, the one in use, its test line, the last search
 * with each study's series when opened, the chosen studies/series, and a retrieve with progress and cancel.
 */
export const usePacsStore = defineStore('pacs', () => {
  const connections = ref<PacsConnectionInfoT[]>([]);
  const selected = ref<string | null>(null);
  const echo = ref<{ ok: boolean; message: string } | null>(null);
  const studies = ref<PacsStudyT[] | null>(null);
  const series = ref<Record<string, PacsSeriesT[] | 'loading'>>({});
  const chosen = ref<Set<string>>(new Set());
  const busy = ref<'' | 'saving' | 'testing' | 'searching' | 'retrieving' | 'sending'>('');
  const progress = ref<PacsProgressT | null>(null);
  const report = ref<PacsRetrieveReportT | null>(null);
  /** The last send-back's result line (ok) or why it failed. */
  const sent = ref<{ ok: boolean; message: string } | null>(null);
  // The shared guard keeps the error sentence; `busy` says which action runs (the panel shows it).
  const { error, guard } = useGuardedActions();
  let subscribed = false;
  // A send-back result belongs to the connection it went to.
  watch(selected, () => (sent.value = null));

  function subscribe(): void {
    if (subscribed) return;
    subscribed = true;
    window.medtune.on('pacs.progress', (p) => {
      if ((busy.value === 'retrieving' && p.phase !== 'sending') || (busy.value === 'sending' && p.phase === 'sending')) progress.value = p;
    });
  }

  /** Runs an action as `what`; a failure becomes the panel's error sentence. */
  async function act(what: typeof busy.value, action: () => Promise<void>): Promise<boolean> {
    busy.value = what;
    try {
      return await guard(action);
    } finally {
      busy.value = '';
    }
  }


  const load = () =>
    act('', async () => {
      subscribe();
      connections.value = await call('pacs.list', {});
      if (!connections.value.some((c) => c.name === selected.value)) selected.value = connections.value[0]?.name ?? null;
    });

  const add = (request: RequestOf<'pacs.add'>) =>
    act('saving', async () => {
      const saved = await call('pacs.add', request);
      connections.value = await call('pacs.list', {});
      selected.value = saved.name;
      echo.value = null;
    });

  const remove = (name: string) =>
    act('saving', async () => {
      await call('pacs.remove', { name });
      connections.value = await call('pacs.list', {});
      if (selected.value === name) selected.value = connections.value[0]?.name ?? null;
      echo.value = null;
    });

  async function test(name: string): Promise<void> {
    busy.value = 'testing';
    echo.value = null;
    try {
      echo.value = { ok: true, message: (await call('pacs.echo', { connection: name })).message };
    } catch (err) {
      echo.value = { ok: false, message: friendlyMessage(err) };
    } finally {
      busy.value = '';
    }
  }

  /** A request the panel cannot send yet: the sentence says what is missing. */
  function refuse(message: string): false {
    error.value = message;
    return false;
  }

  function search(query: PacsQueryT): Promise<boolean> {
    const connection = selected.value;
    if (!connection) return Promise.resolve(refuse('Add a PACS connection first.'));
    return act('searching', async () => {
      studies.value = null;
      series.value = {};
      chosen.value = new Set();
      studies.value = await call('pacs.query', { connection, query });
    });
  }

  async function toggleSeries(studyUid: string): Promise<void> {
    if (series.value[studyUid]) {
      const { [studyUid]: _closed, ...rest } = series.value;
      series.value = rest;
      return;
    }
    if (!selected.value) return;
    series.value = { ...series.value, [studyUid]: 'loading' };
    try {
      series.value = { ...series.value, [studyUid]: await call('pacs.series', { connection: selected.value, studyUid }) };
    } catch (err) {
      const { [studyUid]: _failed, ...rest } = series.value;
      series.value = rest;
      error.value = friendlyMessage(err);
    }
  }

  function toggleChoice(key: string): void {
    const next = new Set(chosen.value);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    chosen.value = next;
  }

  /** Retrieves the chosen studies and series; true when something finished (the worklist should reload). */
  function retrieve(): Promise<boolean> {
    const connection = selected.value;
    if (!connection) return Promise.resolve(refuse('Add a PACS connection first.'));
    // A chosen study covers its chosen series: ask for each instance once.
    const keys = [...chosen.value];
    const wholeStudies = new Set(keys.filter((k) => !k.includes('/')));
    const targets = keys
      .map((k) => k.split('/'))
      .filter(([study, s]) => !s || !wholeStudies.has(study))
      .map(([studyUid, seriesUid]) => (seriesUid ? { studyUid, seriesUid } : { studyUid }));
    if (targets.length === 0) return Promise.resolve(refuse('Choose at least one study or series to retrieve.'));
    return act('retrieving', async () => {
      progress.value = null;
      report.value = null;
      report.value = await call('pacs.retrieve', { connection, targets });
    });
  }

  /** The studies ticked in the results (whole, or through one of their series). */
  const chosenStudies = () => [...new Set([...chosen.value].map((k) => k.split('/')[0]))];

  /**
   * Sends a task's labels back to the selected PACS as structured reports: of the cases retrieved from
   * the chosen studies, or (`all`) of every case retrieved through this connection.
   */
  async function send(taskId: number, which: 'chosen' | 'all'): Promise<boolean> {
    const connection = selected.value;
    if (!connection) return refuse('Add a PACS connection first.');
    const studyUids = which === 'chosen' ? chosenStudies() : undefined;
    if (studyUids && studyUids.length === 0) return refuse('Tick the studies whose labels should go back, or send all.');
    busy.value = 'sending';
    progress.value = null;
    sent.value = null;
    try {
      sent.value = { ok: true, message: (await call('pacs.send', { connection, taskId, studyUids })).message };
      return true;
    } catch (err) {
      sent.value = { ok: false, message: friendlyMessage(err) };
      return false;
    } finally {
      busy.value = '';
    }
  }

  async function cancel(): Promise<void> {
    try {
      await call('pacs.cancel', {});
    } catch (err) {
      error.value = friendlyMessage(err);
    }
  }

  return { connections, selected, echo, studies, series, chosen, busy, progress, report, sent, error, load, add, remove, test, search, toggleSeries, toggleChoice, retrieve, send, cancel };
});
