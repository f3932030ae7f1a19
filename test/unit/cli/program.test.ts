import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command, Option } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_VERSION } from '../../../core/app-info';
import { buildProgram } from '../../../core/cli/main';
import { vitConfigSchema } from '../../../core/model/config';
import { randomBackboneWeights } from '../../../core/model/random-weights';
import { serializeSafetensors } from '../../../core/model/safetensors';
import { Workspace } from '../../../core/store';
import { releaseBackbones } from '../../../core/train/model-loader';
import { TrainingService } from '../../../core/train/service';
import { runCli } from '../../helpers/cli';
import { PARITY_DIR } from '../../helpers/paths';
import { createTrainFixture, type TrainFixture } from '../../helpers/train-fixture';

/** Every command below the program, with its path of names. */
function walk(cmd: Command, names: string[] = []): { names: string[]; cmd: Command }[] {
  return cmd.commands.flatMap((sub) => [{ names: [...names, sub.name()], cmd: sub }, ...walk(sub, [...names, sub.name()])]);
}

const flagsOf = (o: Option) => [o.short, o.long].filter((f): f is string => Boolean(f));

describe('the command tree', () => {
  it('no subcommand option is captured by a program option: each reaches its own command', async () => {
    const program = buildProgram();
    const globalFlags = new Set(program.options.flatMap(flagsOf));
    expect(globalFlags).toEqual(new Set(['-V', '--version']));
    const clashes: string[] = [];
    for (const { names, cmd } of walk(buildProgram())) {
      for (const option of cmd.options) {
        for (const flag of flagsOf(option).filter((f) => globalFlags.has(f))) {
          // Parse a command line that uses the flag, with actions that only record what they were given.
          const fresh = buildProgram();
          let target: Command = fresh;
          for (const n of names) target = target.commands.find((c) => c.name() === n)!;
          let received: Record<string, unknown> | null = null;
          target.action((...args: unknown[]) => {
            received = (args[args.length - 1] as Command).opts();
          });
          const required = target.options.filter((o) => o.mandatory && o !== option).flatMap((o) => [o.long!, '1']);
          const operands = target.registeredArguments.filter((a) => a.required).map(() => '1');
          try {
            await fresh.parseAsync([...names, ...operands, ...required, flag, ...(option.required || option.optional ? ['7'] : [])], { from: 'user' });
          } catch {
            /* commander's exit (e.g. --version printing) lands here */
          }
          if (!received || (received as Record<string, unknown>)[option.attributeName()] === undefined) clashes.push(`${names.join(' ')} ${flag}`);
        }
      }
    }
    expect(clashes).toEqual([]);
  });

  it('`medtune --version` and `-V` print the program version', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      expect(r).toMatchObject({ code: 0 });
      expect(r.out.trim()).toBe(APP_VERSION);
    }
  });

  it('usage errors exit 2', async () => {
    expect((await runCli(['predict', '-w', os.tmpdir(), '--task', 'x', '--version', 'two'])).code).toBe(2);
    expect((await runCli(['no-such-command'])).code).toBe(2);
    expect((await runCli(['train', '--task', 'x'])).code).toBe(2);
  });
});

describe('medtune predict --version', () => {
  let f: TrainFixture;
  const versions: number[] = [];

  beforeAll(async () => {
    f = await createTrainFixture();
    const service = new TrainingService(f.ws, {}, undefined, { pollMs: 0 });
    try {
      for (let i = 0; i < 2; i++) {
        const run = service.enqueueTraining({ taskId: f.taskId, backboneId: f.backboneId, adapter: { method: 'linear' }, epochs: 1, batchSize: 4, promote: 'always', warmStart: 'none' });
        versions.push((await service.waitForRun(run.id)).versionId!);
      }
    } finally {
      await service.close();
    }
  });

  afterAll(() => {
    f?.dispose();
    releaseBackbones();
  });

  it('predicts with the version given, not the active one, and does not print the program version', async () => {
    const [first, active] = versions;
    expect(f.ws.versions.active(f.taskId)?.id).toBe(active);
    const r = await runCli(['predict', '-w', f.ws.dir, '--task', 'referable', '--version', String(first)]);
    expect(r.err).not.toMatch(/medtune: /);
    expect(r.code).toBe(0);
    expect(r.out).not.toContain(APP_VERSION);
    expect(r.out).toMatch(new RegExp(`^version ${first} predicted 20 cases`, 'm'));
    expect(f.ws.predictions.list(first)).toHaveLength(20);
    expect(f.ws.predictions.list(active)).toHaveLength(0);
  });
});

describe('medtune backbone add: the head count', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medtune-heads-'));
  const wsDir = path.join(tmp, 'ws');

  beforeAll(() => Workspace.create(wsDir).close());
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** Random timm-named weights without a config beside them. */
  function weightsFile(name: string, embedDim: number, numHeads: number): string {
    const config = vitConfigSchema.parse({ imageSize: 16, patchSize: 8, embedDim, depth: 1, numHeads });
    const file = path.join(tmp, `${name}.safetensors`);
    fs.writeFileSync(file, serializeSafetensors(randomBackboneWeights(config)));
    return file;
  }
  const storedHeads = (name: string) => {
    const ws = Workspace.open(wsDir);
    try {
      return (ws.versions.backbones().find((b) => b.name === name)?.config as { numHeads?: number } | undefined)?.numHeads;
    } finally {
      ws.close();
    }
  };

  it('refuses weights of an unknown width without --heads, and adds nothing', async () => {
    const r = await runCli(['backbone', 'add', weightsFile('odd', 128, 2), '-w', wsDir]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot infer the head count for embedDim 128: the weights do not store it .*--heads <n>/);
    expect(storedHeads('odd')).toBeUndefined();
  });

  it('takes --heads when given, and says so', async () => {
    const r = await runCli(['backbone', 'add', weightsFile('odd2', 128, 2), '-w', wsDir, '--heads', '2']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^heads: 2, from given \(--heads 2\)$/m);
    expect(storedHeads('odd2')).toBe(2);
  });

  it("takes a known ViT width's head count from the table, and says so (also in model info)", async () => {
    const file = weightsFile('tiny', 192, 3);
    const r = await runCli(['backbone', 'add', file, '-w', wsDir]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^heads: 3, from the known architecture table \(width 192 is timm's ViT-Ti: 3 heads\)$/m);
    expect(storedHeads('tiny')).toBe(3);
    const info = await runCli(['model', 'info', file]);
    expect(info.out).toMatch(/^heads: +3, from the known architecture table/m);
  });

  it('takes the config beside the weights, and refuses a --heads that contradicts it', async () => {
    const file = path.join(PARITY_DIR, 'backbone-timm.safetensors');
    const r = await runCli(['backbone', 'add', file, '-w', wsDir, '--name', 'parity']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^heads: 3, from the config \\(${path.join(PARITY_DIR, 'backbone.json').replace(/[.\\/]/g, '\\$&')}\\)$`, 'm'));
    const wrong = await runCli(['backbone', 'add', file, '-w', wsDir, '--heads', '4']);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/--heads 4 contradicts the config .*backbone\.json \(numHeads 3\)/);
  });
});
