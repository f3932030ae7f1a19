/**
 * The names of every request channel and event of the contract, with no dependencies, so the
 * sandboxed Electron preload can allow-list them without bundling the validators.
 */
import { MASK_CHANNEL_NAMES } from './mask-names';
import { PACS_CHANNEL_NAMES, PACS_EVENT_NAMES } from './pacs-names';
import { READING_CHANNEL_NAMES } from './reading-names';
import { TRAINING_CHANNEL_NAMES, TRAINING_EVENT_NAMES } from './training-names';
import { READERS_CHANNEL_NAMES } from './readers-names';

/**
 * Desktop-only: native file dialogs (a channel) and application-menu commands (an event). Browser mode
 * answers the channel with `unsupported` and never emits the event.
 */
export const DESKTOP_CHANNEL_NAMES = ['desktop.choosePaths'] as const;
export const DESKTOP_EVENT_NAMES = ['desktop.command'] as const;

export const CHANNEL_NAMES = [
  'app.info',
  'workspace.create',
  'workspace.open',
  'workspace.current',
  'workspace.close',
  'cases.list',
  'cases.get',
  'cases.image',
  'cases.preview',
  'cases.thumbnail',
  'tasks.list',
  'tasks.create',
  'tasks.update',
  'tasks.scopeOptions',
  'import.start',
  'import.cancel',
  'labels.set',
  'labels.undo',
  'labels.accept',
  'labels.skip',
  'labels.flag',
  'splits.set',
  'cases.tags',
  'measurements.list',
  'measurements.add',
  'measurements.delete',
  'work.progress',
  'tasks.guidelines',
  'tasks.setGuidelines',
  'comments.list',
  'comments.add',
  'comments.delete',
  'labels.export',
  'files.browse',
  'workspace.recent',
  'uploads.import',
  ...TRAINING_CHANNEL_NAMES,
  ...PACS_CHANNEL_NAMES,
  ...READING_CHANNEL_NAMES,
  ...READERS_CHANNEL_NAMES,
  ...MASK_CHANNEL_NAMES,
  ...DESKTOP_CHANNEL_NAMES,
] as const;

export const EVENT_NAMES = ['workspace.changed', 'import.progress', ...TRAINING_EVENT_NAMES, ...PACS_EVENT_NAMES, ...DESKTOP_EVENT_NAMES] as const;

export type ChannelName = (typeof CHANNEL_NAMES)[number];
export type EventName = (typeof EVENT_NAMES)[number];

export function isChannelName(value: unknown): value is ChannelName {
  return typeof value === 'string' && (CHANNEL_NAMES as readonly string[]).includes(value);
}

export function isEventName(value: unknown): value is EventName {
  return typeof value === 'string' && (EVENT_NAMES as readonly string[]).includes(value);
}

/** Electron IPC channel that carries a contract channel (namespaced so nothing else can collide). */
export const ipcChannel = (name: ChannelName): string => `medtune:${name}`;
export const ipcEvent = (name: EventName): string => `medtune-event:${name}`;
