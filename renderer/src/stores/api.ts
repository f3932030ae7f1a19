import { ref } from 'vue';
import type { RequestOf, ResponseOf } from '../../../core/api/contract';
import type { ApiError } from '../../../core/api/errors';
import type { ChannelName } from '../../../core/api/names';

/** An error value from the contract, thrown inside stores so actions can use try/finally. */
export class ContractError extends Error {
  constructor(readonly error: ApiError) {
    super(error.message);
    this.name = 'ContractError';
  }
  get code() {
    return this.error.code;
  }
}

/** The stores' single door to `window.medtune`: resolves to the value or throws a ContractError. */
export async function call<C extends ChannelName>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> {
  const result = await window.medtune.invoke(channel, request);
  if (!result.ok) throw new ContractError(result.error);
  return result.value;
}

/** A message fit for a dialog, whatever was thrown. */
export function friendlyMessage(err: unknown): string {
  if (err instanceof ContractError) return err.message;
  if (err instanceof Error) return `Something went wrong: ${err.message}`;
  return 'Something went wrong.';
}

/**
 * The busy flag and last error of a store, and `guard`, which runs an action with them: busy while it
 * runs, the error (as a friendly message) when it fails, and whether it succeeded.
 */
export function useGuardedActions() {
  const busy = ref(false);
  const error = ref<string | null>(null);
  async function guard(action: () => Promise<void>): Promise<boolean> {
    busy.value = true;
    error.value = null;
    try {
      await action();
      return true;
    } catch (err) {
      error.value = friendlyMessage(err);
      return false;
    } finally {
      busy.value = false;
    }
  }
  return { busy, error, guard };
}
