/** PACS channels and events (dependency-free, like names.ts). */
export const PACS_CHANNEL_NAMES = ['pacs.list', 'pacs.add', 'pacs.remove', 'pacs.echo', 'pacs.query', 'pacs.series', 'pacs.retrieve', 'pacs.cancel', 'pacs.send'] as const;

export const PACS_EVENT_NAMES = ['pacs.progress'] as const;
