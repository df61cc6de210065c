// The state directory has one layout (core/state.ts) that every writer and clean-all use, and
// one writer (ctx.state) that records, honours --dry-run, writes atomically and stays inside.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createContext } from '../../src/core/context.js';
import { keptStateEntries, stateEntries, statePaths } from '../../src/core/state.js';
import { removeStateStep } from '../../src/setup/clean-all.js';
import { silentLog } from '../../src/ui/log.js';
import { FakeRunner } from '../helpers/fake-runner.js';
import { tempTree } from '../helpers/tree.js';

const top = (stateDir: string, p: string): string => path.relative(stateDir, p).split(path.sep)[0];

test('every place the layout names is either removed by clean-all (data, or key material when asked) or one of the three it keeps', () => {
  const dir = '/s';
  const e = stateEntries(dir);
  const covered = new Set([...e.data, ...e.keys, ...keptStateEntries(dir)].map((p) => top(dir, p)));
  const named = new Set(Object.values(statePaths(dir)).map((p) => top(dir, p)));
  assert.deepEqual([...named].filter((n) => !covered.has(n)), []);
  assert.deepEqual(e.keys.filter((k) => e.data.includes(k)), [], 'nothing is both data and key material');
});

async function filledState(): Promise<{ root: string; stateDir: string }> {
  const root = await tempTree({});
  const stateDir = path.join(root, 'var/lib/crio-sigpoc');
  const e = stateEntries(stateDir);
  for (const p of [...e.data, ...e.keys]) {
    if (path.extname(p) === '.json') await fs.mkdir(path.dirname(p), { recursive: true }).then(() => fs.writeFile(p, '{}\n'));
    else await fs.mkdir(path.join(p, 'inner'), { recursive: true }).then(() => fs.writeFile(path.join(p, 'inner', 'f'), 'x'));
  }
  for (const p of keptStateEntries(stateDir)) await (p.endsWith('logs') ? fs.mkdir(p, { recursive: true }) : fs.writeFile(p, '{}\n'));
  await fs.mkdir(path.join(stateDir, '.keys-new-AbC123'), { recursive: true });
  return { root, stateDir };
}

for (const keys of [true, false]) {
  test(`clean-all's state step ${keys ? 'with' : 'without'} the keys leaves ${keys ? 'only the ledger, its lock and the logs' : 'the key material too'}`, async () => {
    const { root, stateDir } = await filledState();
    const ctx = createContext({ root, dryRun: false, json: true, verbose: false, yes: true }, { real: new FakeRunner(), log: silentLog, stateDir });
    const step = removeStateStep({ keys });
    assert.equal((await step.check(ctx)).state, 'todo');
    await step.apply(ctx);
    assert.equal((await step.check(ctx)).state, 'done');
    const left = (await fs.readdir(stateDir)).sort();
    const kept = keptStateEntries(stateDir).map((p) => path.basename(p));
    const keyNames = keys ? [] : [...stateEntries(stateDir).keys.map((p) => path.basename(p)), '.keys-new-AbC123'];
    assert.deepEqual(left, [...kept, ...keyNames].sort());
  });
}

test('ctx.state writes atomically inside the state dir, records each write, and under --dry-run only records', async () => {
  const root = await tempTree({});
  const stateDir = path.join(root, 'state');
  const real = createContext({ root, dryRun: false, json: true, verbose: false, yes: true }, { real: new FakeRunner(), log: silentLog, stateDir });
  const file = path.join(stateDir, 'matrix', 'prepared', 'x.json');
  await real.state.write(file, '{"a":1}\n');
  assert.equal(await fs.readFile(file, 'utf8'), '{"a":1}\n');
  assert.deepEqual(await fs.readdir(path.dirname(file)), ['x.json'], 'no temporary is left');
  assert.ok(real.recorder.actions.some((a) => a.kind === 'write' && a.path === file));
  await real.state.writeSecret(path.join(stateDir, 'secret'), 's');
  assert.equal((await fs.stat(path.join(stateDir, 'secret'))).mode & 0o777, 0o600);

  const dry = createContext({ root, dryRun: true, json: true, verbose: false, yes: true }, { real: new FakeRunner(), log: silentLog, stateDir });
  await dry.state.write(path.join(stateDir, 'other.json'), '{}\n');
  await assert.rejects(fs.stat(path.join(stateDir, 'other.json')), /ENOENT/);
  assert.ok(dry.recorder.actions.some((a) => a.kind === 'write' && a.path === path.join(stateDir, 'other.json')));
});

test('ctx.state refuses a path out of the state dir, and writes nothing through a link planted inside it (exit 3)', async () => {
  const root = await tempTree({});
  const stateDir = path.join(root, 'state');
  await fs.mkdir(stateDir, { recursive: true });
  const ctx = createContext({ root, dryRun: false, json: true, verbose: false, yes: true }, { real: new FakeRunner(), log: silentLog, stateDir });
  await assert.rejects(ctx.state.write(path.join(stateDir, '..', 'escaped'), 'x'), /not inside the state directory/);
  await fs.mkdir(path.join(root, 'elsewhere-dir'));
  await fs.symlink(path.join(root, 'elsewhere-dir'), path.join(stateDir, 'matrix'));
  await assert.rejects(ctx.state.write(path.join(stateDir, 'matrix', 'x.json'), 'x'), (e: Error & { exitCode?: number }) => e.exitCode === 3 && /is a symbolic link/.test(e.message));
  assert.deepEqual(await fs.readdir(path.join(root, 'elsewhere-dir')), []);
});
