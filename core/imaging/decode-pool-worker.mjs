// Worker entry when MedTune runs from TypeScript sources (tsx, vitest): worker threads do not inherit the parent's
// TypeScript loader, so register tsx's ESM hooks in this thread, then load the real worker module.
import { register } from 'tsx/esm/api';

register();
await import('./decode-pool-worker.ts');
