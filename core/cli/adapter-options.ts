/** `medtune train`'s adapter options, declared and turned into the job's adapter choice in one place. */
import type { Command } from 'commander';
import { CliError, EXIT } from './cli-error';
import { int, oneOf } from './common';

export interface AdapterOptions {
  method: 'dvpt' | 'ept' | 'linear';
  promptLength?: number;
  bottleneck?: number;
  prompts?: number;
  share?: number;
  lastLayers?: number;
  startLayer?: number;
}

/** Declares the adapter options on `cmd`. */
export function addAdapterOptions(cmd: Command): Command {
  return cmd
    .option('--method <method>', 'dvpt, ept or linear', oneOf('method', ['dvpt', 'ept', 'linear'] as const), 'dvpt')
    .option('--prompt-length <n>', 'EPT prompt length', int('prompt length'))
    .option('--bottleneck <n>', 'DVPT bottleneck width r', int('bottleneck'))
    .option('--prompts <n>', 'DVPT prompt count M', int('prompts'))
    .option('--share <n>', 'DVPT layers sharing one module', int('share'))
    .option('--last-layers <n>', 'EPT/DVPT: adapters only in the last n blocks (default: all blocks)', int('last layers'))
    .option('--start-layer <k>', 'DVPT: first adapted block (0 = all; or use --last-layers)', int('start layer'));
}

/** The job's adapter choice from the options; options of another method are refused rather than ignored. */
export function adapterFromOptions(opts: AdapterOptions): Record<string, unknown> {
  const given = <T>(key: string, value: T | undefined) => (value !== undefined ? { [key]: value } : {});
  if (opts.method === 'linear' && opts.lastLayers !== undefined) throw new CliError('--last-layers applies to EPT and DVPT, not to a linear probe', EXIT.usage);
  if (opts.method !== 'dvpt' && opts.startLayer !== undefined) {
    throw new CliError(`--start-layer applies to DVPT only${opts.method === 'ept' ? ' (for EPT use --last-layers)' : ''}`, EXIT.usage);
  }
  for (const [flag, value, method] of [
    ['--prompt-length', opts.promptLength, 'ept'],
    ['--bottleneck', opts.bottleneck, 'dvpt'],
    ['--prompts', opts.prompts, 'dvpt'],
    ['--share', opts.share, 'dvpt'],
  ] as const) {
    if (value !== undefined && opts.method !== method) throw new CliError(`${flag} applies to ${method.toUpperCase()} only, not to --method ${opts.method}`, EXIT.usage);
  }
  if (opts.method === 'ept') return { method: 'ept', ...given('promptLength', opts.promptLength), ...given('lastLayers', opts.lastLayers) };
  if (opts.method === 'dvpt') {
    return {
      method: 'dvpt',
      ...given('bottleneck', opts.bottleneck),
      ...given('numPrompts', opts.prompts),
      ...given('share', opts.share),
      ...given('startLayer', opts.startLayer),
      ...given('lastLayers', opts.lastLayers),
    };
  }
  return { method: 'linear' };
}
