import type * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { CLASSIFICATION_KINDS, type AdapterMethod } from '../../vocabulary';
import type { ViTConfig } from '../config';
import type { BlockAdapter } from '../vit';

/**
 * What one adapter method brings, in the manner of Hugging Face PEFT's `tuners/<method>/`: its
 * config and job schemas, its tensors and their initialisation, and its hook into the ViT block.
 * Everything method-specific lives in its folder; model.ts, adapter-config.ts and the training
 * job only iterate over the registry (registry.ts).
 */

/** Multi-class and ordinal grading use softmax CE; multi-label uses sigmoid BCE. */
export const taskKindSchema = z.enum(CLASSIFICATION_KINDS);
export type TaskKind = z.infer<typeof taskKindSchema>;

/** Fields every adapter config has besides its method's hyper-parameters (the head's shape and loss). */
export const commonConfigFields = {
  numClasses: z.number().int().positive(),
  task: taskKindSchema.default('multiclass'),
};
export type CommonConfig = z.output<z.ZodObject<typeof commonConfigFields>>;

export class AdapterConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdapterConfigError';
  }
}

/** One user-settable option of a method, for building CLI flags and UI fields generically. */
export interface AdapterOptionDescriptor {
  /** The key in the job's adapter choice, e.g. `promptLength`. */
  key: string;
  description: string;
  type: 'integer' | 'number' | 'integer-list';
}

/** Random draws a plug-in may use to initialise its tensors; seeded by the model. */
export interface InitRandom {
  /** U(±1/√fanIn): PyTorch's Linear weight init (kaiming-uniform, a = √5) and bias init. */
  fanInUniform(shape: number[], fanIn: number): tf.Tensor;
  normal(shape: number[], std: number): tf.Tensor;
  zeros(shape: number[]): tf.Tensor;
}

/**
 * One adapter method. `Config` is the method's part of the adapter config (with `method`), `Choice`
 * what a training job may ask for (resolved against the backbone depth into config fields).
 */
export interface AdapterPlugin<M extends AdapterMethod = AdapterMethod, Config extends { method: M } = { method: M }, Choice extends { method: M } = { method: M }> {
  readonly method: M;
  /** Hyper-parameters with defaults, in the keys of the fixtures' `adapter-<method>.json` (plus `method`). */
  readonly configSchema: z.ZodType<Config> & z.ZodObject;
  /** What the UI/CLI may set for a training job (plus `method`). */
  readonly jobSchema: z.ZodType<Choice> & z.ZodObject;
  /** The job options, described for CLI flags and UI fields. */
  readonly options: readonly AdapterOptionDescriptor[];
  /**
   * The config fields a job's choice stands for on a backbone of `depth` blocks (e.g. `lastLayers`
   * turned into layer indices). Throws AdapterConfigError for a choice the backbone cannot take.
   */
  resolveChoice(choice: Choice, depth: number): Record<string, unknown>;
  /**
   * The first block the adapter changes (depth when it changes none); blocks before it are the
   * frozen prefix. Throws AdapterConfigError when the config names layers the backbone lacks.
   */
  startLayer(config: Config, backbone: ViTConfig): number;
  /** The method's trainable tensors (the head is added by the model), by file name, with their shapes. */
  tensorShapes(config: Config, backbone: ViTConfig): Map<string, number[]>;
  /** Closed-form size of those tensors (checked against `tensorShapes` in the tests). */
  parameterCount(config: Config, backbone: ViTConfig): number;
  /** Initial value of one of its tensors. */
  initialTensor(name: string, shape: number[], config: Config, backbone: ViTConfig, random: InitRandom): tf.Tensor;
  /** The hook into the ViT blocks, reading the model's variables by tensor name; none for a head-only method. */
  blockAdapter(config: Config, backbone: ViTConfig, variables: Map<string, tf.Variable>): BlockAdapter | undefined;
}

/** A variable by tensor name, or an error naming the tensor. */
export function requireVariable(variables: Map<string, tf.Variable>, name: string): tf.Variable {
  const v = variables.get(name);
  if (!v) throw new Error(`adapter tensor "${name}" is missing`);
  return v;
}

/** A plug-in of method M whatever its config and choice types (for the registry's completeness check). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each plug-in has its own config and choice types
export type AnyAdapterPlugin<M extends AdapterMethod> = AdapterPlugin<M, any, any>;
