/**
 * Cancellation of training and prediction: the error a cancelled run ends with, and the checks
 * between micro-batches that let an abort (and progress messages) through.
 */
export class TrainingCancelled extends Error {
  constructor() {
    super('training was cancelled');
    this.name = 'TrainingCancelled';
  }
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new TrainingCancelled();
}

/**
 * Work on the replicas, given up at once when the signal aborts (the owner then closes the pool,
 * which stops the busy threads): a replica cannot read a cancel message in the middle of a step.
 */
export function unlessAborted<T>(work: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new TrainingCancelled());
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(signal.aborted ? new TrainingCancelled() : e);
      },
    );
  });
}

/** Yields to the event loop so cancellation messages and progress get through between steps. */
export const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
