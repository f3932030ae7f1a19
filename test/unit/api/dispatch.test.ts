import { describe, expect, it } from 'vitest';
import { dispatch, EventBus, type Handlers } from '../../../core/api/dispatch';
import { ApiFailure } from '../../../core/api/errors';
import { CHANNEL_NAMES } from '../../../core/api/names';
import { contract, events } from '../../../core/api/contract';

const info = { dir: '/tmp/w', name: 'w', schemaVersion: 1, caseCount: 0, createdAt: '2026-01-01T00:00:00Z' };

/** Channels these tests do not call: a handler that fails loudly if one ever is. */
function unimplemented(): Omit<Handlers, 'app.info' | 'workspace.create' | 'workspace.open' | 'workspace.current' | 'workspace.close' | 'cases.list'> {
  const never = () => {
    throw new Error('not used in this test');
  };
  return {
    'cases.get': never,
    'cases.image': never,
    'cases.preview': never,
    'cases.thumbnail': never,
    'tasks.list': never,
    'tasks.create': never,
    'tasks.update': never,
    'tasks.scopeOptions': never,
    'import.start': never,
    'import.cancel': never,
    'labels.set': never,
    'labels.undo': never,
    'labels.accept': never,
    'labels.skip': never,
    'labels.flag': never,
    'splits.set': never,
    'cases.tags': never,
    'measurements.list': never,
    'measurements.add': never,
    'measurements.delete': never,
    'work.progress': never,
    'tasks.guidelines': never,
    'tasks.setGuidelines': never,
    'comments.list': never,
    'comments.add': never,
    'comments.delete': never,
    'labels.export': never,
    'files.browse': never,
    'workspace.recent': never,
    'uploads.import': never,
    'backbones.list': never,
    'backbones.import': never,
    'train.start': never,
    'train.cancel': never,
    'train.runs': never,
    'versions.list': never,
    'versions.promote': never,
    'versions.rollback': never,
    'versions.forecast': never,
    'versions.export': never,
    'predict.start': never,
    'suggest.run': never,
    'loop.status': never,
    'series.stack': never,
    'worklist.groups': never,
    'cases.hanging': never,
    'pacs.list': never,
    'pacs.add': never,
    'pacs.remove': never,
    'pacs.echo': never,
    'pacs.query': never,
    'pacs.series': never,
    'pacs.retrieve': never,
    'pacs.cancel': never,
    'readers.list': never,
    'readers.add': never,
    'readers.switch': never,
    'reads.get': never,
    'reads.adjudicate': never,
    'reads.accept': never,
    'reads.reject': never,
    'agreement.get': never,
    'masks.get': never,
    'masks.save': never,
    'masks.accept': never,
    'masks.history': never,
    'masks.import': never,
    'masks.export': never,
    'pacs.send': never,
    'masks.importFiles': never,
    'masks.exportAll': never,
    'desktop.choosePaths': never,
  };
}

function handlers(overrides: Partial<Handlers> = {}): Handlers {
  return {
    'app.info': (_r, ctx) => ({ name: 'MedTune', version: '0', transport: ctx.transport, platform: 'x', node: '20' }),
    'workspace.create': () => info,
    'workspace.open': () => info,
    'workspace.current': () => null,
    'workspace.close': () => null,
    'cases.list': (req) => ({ total: req.limit, items: [] }),
    ...unimplemented(),
    ...overrides,
  };
}

describe('contract', () => {
  it('names every channel exactly once, with request and response schemas', () => {
    expect(Object.keys(contract).sort()).toEqual([...CHANNEL_NAMES].sort());
    expect(Object.keys(events)).toEqual(['workspace.changed', 'import.progress', 'train.progress', 'predict.progress', 'loop.state', 'worklist.changed', 'pacs.progress', 'desktop.command']);
  });
});

describe('dispatch', () => {
  it('validates and fills defaults before the handler runs', async () => {
    const result = await dispatch(handlers(), 'cases.list', {}, { transport: 'websocket' });
    expect(result).toEqual({ ok: true, value: { total: 100, items: [] } });
  });

  it('passes the transport to handlers', async () => {
    const result = await dispatch(handlers(), 'app.info', {}, { transport: 'electron' });
    expect(result.ok && (result.value as { transport: string }).transport).toBe('electron');
  });

  it('refuses unknown channels and invalid requests as error values', async () => {
    expect(await dispatch(handlers(), 'fs.readFile', {}, { transport: 'websocket' })).toMatchObject({
      ok: false,
      error: { code: 'unknown-channel' },
    });
    const bad = await dispatch(handlers(), 'cases.list', { limit: -5 }, { transport: 'websocket' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    if (!bad.ok) expect(bad.error.message).toContain('limit');
    const extra = await dispatch(handlers(), 'app.info', { evil: true }, { transport: 'websocket' });
    expect(extra).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
  });

  it('turns thrown failures into codes and messages, and unknown errors into internal', async () => {
    const h = handlers({
      'workspace.open': () => {
        throw new ApiFailure('not-a-workspace', '/x is not a MedTune workspace');
      },
      'workspace.create': () => {
        throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
      },
      'workspace.current': () => {
        throw new TypeError('boom');
      },
    });
    expect(await dispatch(h, 'workspace.open', { dir: '/x' }, { transport: 'electron' })).toEqual({
      ok: false,
      error: { code: 'not-a-workspace', message: '/x is not a MedTune workspace' },
    });
    expect(await dispatch(h, 'workspace.create', { dir: '/x' }, { transport: 'electron' })).toMatchObject({
      ok: false,
      error: { code: 'io-error' },
    });
    const errSpy = console.error;
    console.error = () => undefined;
    try {
      expect(await dispatch(h, 'workspace.current', {}, { transport: 'electron' })).toMatchObject({
        ok: false,
        error: { code: 'internal', message: 'boom' },
      });
    } finally {
      console.error = errSpy;
    }
  });

  it('refuses a handler response outside the contract', async () => {
    const h = handlers({ 'workspace.current': () => ({ dir: 1 }) as never });
    const errSpy = console.error;
    console.error = () => undefined;
    try {
      expect(await dispatch(h, 'workspace.current', {}, { transport: 'electron' })).toMatchObject({
        ok: false,
        error: { code: 'invalid-response' },
      });
    } finally {
      console.error = errSpy;
    }
  });
});

describe('EventBus', () => {
  it('delivers validated payloads and stops after unsubscribe', () => {
    const bus = new EventBus();
    const seen: unknown[] = [];
    const off = bus.subscribe((event, payload) => seen.push([event, payload]));
    bus.emit('workspace.changed', info);
    off();
    bus.emit('workspace.changed', null);
    expect(seen).toEqual([['workspace.changed', info]]);
    expect(() => bus.emit('workspace.changed', { dir: 3 } as never)).toThrow();
  });
});
