// Shared by the setup tests: a fake Runner (what cannot run here: apt repositories on the
// internet, GitHub downloads, a VM's systemd) and temporary roots copied from the fixtures.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from '../../src/core/context.js';
import { createContext } from '../../src/core/context.js';
import type { Action } from '../../src/core/plan.js';
import type { RunResult, Runner } from '../../src/core/command.js';
import { silentLog } from '../../src/ui/log.js';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/setup');

export { FakeRunner } from '../helpers/fake-runner.js';

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

/** Every file under dir with its sha256 and mode: equal snapshots mean a byte-identical tree. */
export { snapshot } from '../helpers/tree.js';

/** The plan as (step, program argv | file written) pairs, with the temp paths made readable. */
export function planOf(actions: Action[], replace: Record<string, string>): string[] {
  const tidy = (s: string): string => Object.entries(replace).reduce((acc, [from, to]) => acc.split(from).join(to), s);
  return actions.map((a) => {
    if (a.kind === 'run' || a.kind === 'start') return `${a.step}: ${a.kind === 'start' ? 'start ' : ''}${a.privileged ? '[root] ' : ''}${tidy(a.argv.join(' '))}`;
    if (a.kind === 'http') return `${a.step}: ${a.method} ${a.url}`;
    if (a.kind === 'move') return `${a.step}: move ${tidy(a.from)} ${tidy(a.to)}`;
    return `${a.step}: ${a.kind} ${tidy(a.path)}`;
  });
}

/** dpkg-query's answer when these packages are installed at these versions. */
export const dpkgInstalled = (pkgs: Record<string, string>): Partial<RunResult> => ({
  exitCode: 0,
  stdout: Object.entries(pkgs)
    .map(([name, version]) => `${name}\tinstall ok installed\t${version}`)
    .join('\n'),
});
