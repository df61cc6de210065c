// Shared by the setup tests: a fake Runner (what cannot run here: apt repositories on the
// internet, GitHub downloads, a VM's systemd) and temporary roots copied from the fixtures.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from '../../src/context.js';
import { createContext } from '../../src/context.js';
import type { Action } from '../../src/engine/plan.js';
import type { Command, RunResult, Runner } from '../../src/exec/command.js';
import { silentLog } from '../../src/ui/log.js';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/setup');

type Answer = Partial<RunResult> | undefined;

/** Answers what the test scripts; everything else fails, as a probe on a bare VM would. */
export class FakeRunner implements Runner {
  readonly calls: Command[] = [];
  readonly started: Command[] = [];
  constructor(
    private readonly answer: (cmd: Command) => Answer | Promise<Answer> = () => undefined,
    private readonly onStart: (cmd: Command) => void = () => {},
  ) {}

  async run(cmd: Command): Promise<RunResult> {
    this.calls.push(cmd);
    const a = await this.answer(cmd);
    return { exitCode: 1, stdout: '', stderr: `${cmd.file}: not scripted in this test`, timedOut: false, ...a };
  }

  async spawnDetached(cmd: Command): Promise<number> {
    this.started.push(cmd);
    this.onStart(cmd);
    return 2_147_000_000; // a pid no process has
  }
}

export async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `crio-sigpoc-${prefix}-`));
}

/** A fresh copy of a fixture root; changes stay in the copy. */
export async function rootFrom(fixture: string, opts: { systemd?: boolean } = {}): Promise<string> {
  const root = await tempDir(fixture);
  await fs.cp(path.join(FIXTURES, fixture), root, { recursive: true });
  if (opts.systemd === false) await fs.rm(path.join(root, 'run/systemd'), { recursive: true, force: true });
  return root;
}

export function testContext(root: string, real: Runner, opts: { dryRun?: boolean; yes?: boolean; cacheDir?: string } = {}): Context {
  const ctx = createContext({ root, dryRun: opts.dryRun ?? true, json: true, verbose: false, yes: opts.yes ?? false }, { real, log: silentLog });
  if (opts.cacheDir) ctx.cacheDir = opts.cacheDir;
  return ctx;
}

/** Every file under dir with its sha256: equal snapshots mean a byte-identical tree. */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const p = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, p)] = createHash('sha256')
      .update(await fs.readFile(p))
      .digest('hex');
  }
  return out;
}

/** The plan as (step, program argv | file written) pairs, with the temp paths made readable. */
export function planOf(actions: Action[], replace: Record<string, string>): string[] {
  const tidy = (s: string): string => Object.entries(replace).reduce((acc, [from, to]) => acc.split(from).join(to), s);
  return actions.map((a) => {
    if (a.kind === 'run' || a.kind === 'start') return `${a.step}: ${a.kind === 'start' ? 'start ' : ''}${a.privileged ? '[root] ' : ''}${tidy(a.argv.join(' '))}`;
    if (a.kind === 'http') return `${a.step}: ${a.method} ${a.url}`;
    return `${a.step}: ${a.kind} ${tidy(a.path)}`;
  });
}

/** dpkg-query's answer when these packages are installed at these versions. */
export const dpkgInstalled = (pkgs: Record<string, string>): Answer => ({
  exitCode: 0,
  stdout: Object.entries(pkgs)
    .map(([name, version]) => `${name}\tinstall ok installed\t${version}`)
    .join('\n'),
});
