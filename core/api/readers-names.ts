/** Reader profiles, blind reads, adjudication and agreement channels (dependency-free, like names.ts). */
export const READERS_CHANNEL_NAMES = [
  'readers.list',
  'readers.add',
  'readers.switch',
  'reads.get',
  'reads.adjudicate',
  'reads.accept',
  'reads.reject',
  'agreement.get',
] as const;
