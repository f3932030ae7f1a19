import { z } from 'zod';
import { ADAPTER_METHODS, type AdapterMethod } from '../../vocabulary';
import { dvptPlugin } from './dvpt';
import { eptPlugin } from './ept';
import { linearPlugin } from './linear';
import { loraPlugin } from './lora';
import { commonConfigFields, type AdapterPlugin, type AnyAdapterPlugin, type CommonConfig } from './plugin';

/**
 * The one list of adapter plug-ins. Its keys must be exactly core/vocabulary.ts's ADAPTER_METHODS
 * (checked by `satisfies`); adapter-config's schema, model.ts's tensors and the training job's
 * adapter choice are all derived from it.
 */
export const ADAPTER_PLUGINS = {
  linear: linearPlugin,
  ept: eptPlugin,
  dvpt: dvptPlugin,
  lora: loraPlugin,
} as const satisfies { [M in AdapterMethod]: AnyAdapterPlugin<M> };

type Plugins = typeof ADAPTER_PLUGINS;
type ConfigOf<M extends AdapterMethod> = z.output<Plugins[M]['configSchema']>;
type ChoiceOf<M extends AdapterMethod> = z.output<Plugins[M]['jobSchema']>;

/** One method's full adapter config: its hyper-parameters plus numClasses and task. */
export type AdapterConfigOf<M extends AdapterMethod> = ConfigOf<M> & CommonConfig;
export type AdapterConfig = { [M in AdapterMethod]: AdapterConfigOf<M> }[AdapterMethod];
/** What a training job may ask for, per method. */
export type AdapterChoice = { [M in AdapterMethod]: ChoiceOf<M> }[AdapterMethod];

/** The plug-in of a method, typed loosely so it can take any config or choice of that method. */
export function adapterPlugin(method: AdapterMethod): AdapterPlugin<AdapterMethod, AdapterConfig, AdapterChoice> {
  return ADAPTER_PLUGINS[method] as unknown as AdapterPlugin<AdapterMethod, AdapterConfig, AdapterChoice>;
}

type NonEmptySchemas<T> = [T, ...T[]];

/** Adapter hyper-parameters, in the keys of the fixtures' `adapter-*.json`: one member per plug-in. */
export const adapterConfigSchema = z.discriminatedUnion(
  'method',
  ADAPTER_METHODS.map((m) => ADAPTER_PLUGINS[m].configSchema.extend(commonConfigFields)) as unknown as NonEmptySchemas<
    { [M in AdapterMethod]: ReturnType<Plugins[M]['configSchema']['extend']> }[AdapterMethod]
  >,
) as unknown as z.ZodType<AdapterConfig, z.input<Plugins[AdapterMethod]['configSchema']> & z.input<z.ZodObject<typeof commonConfigFields>>>;

/** A training job's adapter choice: one member per plug-in. */
export const adapterChoiceSchema = z.discriminatedUnion(
  'method',
  ADAPTER_METHODS.map((m) => ADAPTER_PLUGINS[m].jobSchema) as unknown as NonEmptySchemas<Plugins[AdapterMethod]['jobSchema']>,
) as unknown as z.ZodType<AdapterChoice, z.input<Plugins[AdapterMethod]['jobSchema']>>;

/**
 * A job's adapter choice from flat fields (an API request, CLI options): `method` plus every
 * option of that method's descriptor list that is set. Other keys are ignored.
 */
export function adapterChoiceFromFields(method: AdapterMethod, fields: Record<string, unknown>): Record<string, unknown> {
  const choice: Record<string, unknown> = { method };
  for (const { key } of adapterPlugin(method).options) if (fields[key] !== undefined) choice[key] = fields[key];
  return choice;
}
