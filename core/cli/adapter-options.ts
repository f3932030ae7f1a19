/**
 * `medtune train`'s adapter options, built from the adapter plug-ins' option descriptors
 * (core/model/adapters/): a new method's options appear here without editing the CLI. The options
 * become the job's adapter choice through the same function the app's handlers use.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { adapterChoiceFromFields, adapterPlugin } from '../model/adapters/registry';
import { ADAPTER_METHODS, DEFAULT_ADAPTER_METHOD, type AdapterMethod } from '../vocabulary';
import { CliError, EXIT } from './cli-error';
import { oneOf } from './common';

export type AdapterOptions = { method: AdapterMethod } & Record<string, unknown>;

/** Older flag names kept working: `--prompts` was DVPT's prompt count before the flags came from the plug-ins. */
const ALIASES: Record<string, string> = { numPrompts: 'prompts' };

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const flagOf = (key: string) => `--${ALIASES[key] ?? kebab(key)}`;
/** commander's camel-cased property for a flag. */
const propertyOf = (key: string) => (ALIASES[key] ?? kebab(key)).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Every option key of every method, with the methods that take it and their descriptions. */
function optionTable(): Map<string, { type: string; methods: AdapterMethod[]; description: string }> {
  const table = new Map<string, { type: string; methods: AdapterMethod[]; description: string }>();
  for (const method of ADAPTER_METHODS) {
    for (const o of adapterPlugin(method).options) {
      const row = table.get(o.key) ?? { type: o.type, methods: [], description: o.description.replace(/^[A-Za-z/]+: /, '') };
      row.methods.push(method);
      table.set(o.key, row);
    }
  }
  return table;
}

function parserFor(key: string, type: string): (v: string) => unknown {
  return (v) => {
    if (type === 'integer-list') {
      const list = v.split(',').map((x) => Number(x.trim()));
      if (list.some((n) => !Number.isInteger(n) || n < 0)) throw new InvalidArgumentError(`${key} must be a comma-separated list of non-negative integers`);
      return list;
    }
    const n = Number(v);
    if (type === 'integer' ? !Number.isInteger(n) || n < 0 : !Number.isFinite(n)) throw new InvalidArgumentError(`${key} must be a ${type === 'integer' ? 'non-negative integer' : 'number'}`);
    return n;
  };
}

/** Declares --method and every plug-in option on `cmd`. */
export function addAdapterOptions(cmd: Command): Command {
  cmd.option('--method <method>', ADAPTER_METHODS.join(', '), oneOf('method', ADAPTER_METHODS), DEFAULT_ADAPTER_METHOD);
  for (const [key, row] of optionTable()) {
    const which = row.methods.map((m) => m.toUpperCase()).join('/');
    cmd.option(`${flagOf(key)} <${row.type === 'integer-list' ? 'list' : 'n'}>`, `${which}: ${row.description}`, parserFor(key, row.type));
  }
  return cmd;
}

/** The job's adapter choice from the options; options of another method are refused rather than ignored. */
export function adapterFromOptions(opts: AdapterOptions): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [key, row] of optionTable()) {
    const value = opts[propertyOf(key)];
    if (value === undefined) continue;
    if (!row.methods.includes(opts.method)) {
      throw new CliError(`${flagOf(key)} applies to ${row.methods.map((m) => m.toUpperCase()).join(' and ')} only, not to --method ${opts.method}`, EXIT.usage);
    }
    fields[key] = value;
  }
  return adapterChoiceFromFields(opts.method, fields);
}
