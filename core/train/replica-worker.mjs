// Worker entry when MedTune runs from TypeScript sources (tsx, vitest): register tsx's loader in this
// thread (workers do not inherit it), then load the real replica.
import { register } from 'tsx/esm/api';

register();
await import('./replica-worker.ts');
