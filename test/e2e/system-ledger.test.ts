// One ledger for the real /etc: a normal user's runs (which write through sudo) record their
// changes in root's ledger, so a root run and a user run never back up each other's writes as the
// original. Run for real with the programs the sudo path uses (stat, base64, install, mv); as root,
// as the e2e suite runs, sudo is not needed to reach the root-only ledger.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ExecaRunner } from '../../src/core/execa-runner.js';
import { Recorder } from '../../src/core/plan.js';
import { SystemFiles } from '../../src/core/system-files.js';
import { silentLog } from '../../src/ui/log.js';

assert.equal(process.getuid?.(), 0, 'the end-to-end suite runs as root (the system ledger is root-only)');

async function tree(t: { after(fn: () => unknown): void }) {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'sigpoc-ledger-'));
  t.after(() => fs.rm(base, { recursive: true, force: true }));
  const root = path.join(base, 'root');
  const sysState = path.join(root, 'var/lib/crio-sigpoc');
  const userState = path.join(base, 'home/user/.local/state/crio-sigpoc');
  await fs.mkdir(path.join(root, 'etc/containers'), { recursive: true });
  const runner = new ExecaRunner(silentLog);
  const common = { root, runner, recorder: new Recorder(), dryRun: false, log: silentLog };
  return {
    root,
    sysState,
    userState,
    /** A root run: its own state dir is the system one. */
    asRoot: () => new SystemFiles({ ...common, stateDir: sysState, direct: true }),
    /** A normal user's run: /etc through the privileged path, the ledger in the system state dir. */
    asUser: () => new SystemFiles({ ...common, stateDir: userState, direct: false, systemLedgerDir: sysState }),
  };
}

const ORIGINAL = Buffer.from([...Array(256).keys()]); // every byte value: a binary must survive the sudo pipe

test("root's run, then the user's run on the same file: clean-all puts back the original, not root's write", async (t) => {
  const tr = await tree(t);
  const file = path.join(tr.root, 'etc/containers/policy.json');
  await fs.writeFile(file, ORIGINAL, { mode: 0o640 });
  await tr.asRoot().install('/etc/containers/policy.json', 'written by root\n');
  await tr.asUser().install('/etc/containers/policy.json', 'written by the user\n');
  assert.equal(await fs.readFile(file, 'utf8'), 'written by the user\n');
  assert.equal(await fs.stat(path.join(tr.userState, 'ledger.json')).catch(() => undefined), undefined, 'the user keeps no ledger of its own');
  const results = await tr.asRoot().restoreAll();
  assert.deepEqual(results.map((r) => r.action), ['restored']);
  assert.ok((await fs.readFile(file)).equals(ORIGINAL), 'the original, byte for byte');
  assert.equal((await fs.stat(file)).mode & 0o777, 0o640);
});

test("the user's run first, then root's: the original is still what clean-all restores, also when run by the user", async (t) => {
  const tr = await tree(t);
  const file = path.join(tr.root, 'etc/containers/policy.json');
  await fs.writeFile(file, ORIGINAL);
  await tr.asUser().install('/etc/containers/policy.json', 'written by the user\n');
  const ledger = path.join(tr.sysState, 'ledger.json');
  const st = await fs.stat(ledger);
  assert.equal(st.uid, 0);
  assert.equal(st.mode & 0o777, 0o600, 'root-only, as root writes it');
  assert.equal((await fs.stat(tr.sysState)).mode & 0o777, 0o700);
  await tr.asRoot().install('/etc/containers/policy.json', 'written by root\n');
  const results = await tr.asUser().restoreAll();
  assert.deepEqual(results.map((r) => r.action), ['restored']);
  assert.ok((await fs.readFile(file)).equals(ORIGINAL));
  assert.deepEqual(await tr.asRoot().ledger(), {}, 'nothing left to restore');
});

test('a system ledger that others can write is refused on the user path too, exit 3, naming it', async (t) => {
  const tr = await tree(t);
  await tr.asUser().install('/etc/containers/a.conf', 'x\n');
  await fs.chmod(path.join(tr.sysState, 'ledger.json'), 0o666);
  await assert.rejects(tr.asUser().install('/etc/containers/b.conf', 'y\n'), (e: Error & { exitCode?: number }) => {
    assert.equal(e.exitCode, 3);
    assert.match(e.message, /ledger\.json is owned by uid 0 with mode 666, not root's alone: the tool does not trust it/);
    return true;
  });
});

test('root runs and user runs changing /etc at the same time: the ledger keeps every change (its lock serialises them)', async (t) => {
  const tr = await tree(t);
  // Separate instances are separate runs: each holds its own run lock, only the ledger lock is shared.
  const names = [...Array(16).keys()].map((i) => `/etc/containers/registries.d/run-${i}.yaml`);
  await Promise.all(names.map((n, i) => (i % 2 ? tr.asUser() : tr.asRoot()).install(n, `run ${i}\n`)));
  assert.deepEqual(Object.keys(await tr.asRoot().ledger()).sort(), names.map((n) => path.join(tr.root, n)).sort(), 'no run lost another run’s entry');
  const results = await tr.asUser().restoreAll();
  assert.deepEqual(results.map((r) => r.action), names.map(() => 'removed'));
  for (const n of names) assert.equal(await fs.stat(path.join(tr.root, n)).catch(() => undefined), undefined, `${n} is gone`);
  const lock = await fs.lstat(path.join(tr.sysState, 'ledger.lock'));
  assert.ok(lock.isFile() && lock.uid === 0 && (lock.mode & 0o022) === 0, 'the ledger lock is root’s regular file, not writable by others');
});
