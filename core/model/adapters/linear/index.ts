import { z } from 'zod';
import type { AdapterPlugin } from '../plugin';

const configSchema = z.object({ method: z.literal('linear') });
const jobSchema = z.object({ method: z.literal('linear') });

/** Linear probe: only the head trains; no block changes, so the whole backbone is the frozen prefix. */
export const linearPlugin = {
  method: 'linear',
  configSchema,
  jobSchema,
  options: [],
  resolveChoice: (choice) => ({ ...choice }),
  startLayer: (_config, backbone) => backbone.depth,
  tensorShapes: () => new Map(),
  parameterCount: () => 0,
  initialTensor: (name) => {
    throw new Error(`a linear probe has no tensor "${name}"`);
  },
  blockAdapter: () => undefined,
} satisfies AdapterPlugin<'linear', z.output<typeof configSchema>, z.output<typeof jobSchema>>;
