// The run lock: held by the kernel for as long as the run lives, paused or not; a lock file that
// another user could have planted is refused.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { acquireRunLock } from '../../src/core/lock.js';
import { repo } from '../helpers/cli.js';

const stateDir = (): Promise<string> => fs.mkdtemp(path.join(os.tmpdir(), 'crio-sigpoc-state-'));

/** A real process holding the lock, as a run of the tool does. */
async function holder(state: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repo, 'test/fixtures/lock/holder.ts'), state], { cwd: repo, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  while (!out.includes('held\n')) {
    if (child.exitCode !== null) throw new Error(`holder exited: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, exited, output: () => ({ out, err }) };
}

test('a run paused (SIGSTOP) past any stale time keeps the lock, and finishes cleanly when continued', async () => {
  const state = await stateDir();
  const h = await holder(state);
  try {
    h.child.kill('SIGSTOP');
    // Longer than the 30 s after which a timestamp lock takes itself to be stale.
    await assert.rejects(acquireRunLock(state, 33_000), (e: Error & { exitCode?: number }) => {
      assert.equal(e.exitCode, 3);
      assert.match(e.message, /another crio-sigpoc run holds .*\/lock and did not finish within 33s/);
      return true;
    });
  } finally {
    h.child.kill('SIGCONT');
  }
  h.child.stdin.end('release\n');
  const [code] = await h.exited;
  assert.deepEqual(h.output(), { out: 'held\nreleased\n', err: '' });
  assert.equal(code, 0);
  // Released: the next run takes it at once.
  const release = await acquireRunLock(state, 1_000);
  await release();
  await assert.rejects(fs.access(path.join(state, 'lock')), 'no lock file outlives the runs');
});

test('two runs waiting while the holder lets go: exactly one at a time gets the lock', async () => {
  const state = await stateDir();
  const first = await acquireRunLock(state, 1_000);
  let inside = 0;
  let most = 0;
  const run = async () => {
    const release = await acquireRunLock(state, 10_000);
    most = Math.max(most, ++inside);
    await new Promise((r) => setTimeout(r, 300));
    inside--;
    await release();
  };
  const waiting = [run(), run()];
  await new Promise((r) => setTimeout(r, 300));
  await first();
  await Promise.all(waiting);
  assert.equal(most, 1);
});

test('the lock goes with its holder: a run killed with SIGKILL leaves nothing to wait for', async () => {
  const state = await stateDir();
  const h = await holder(state);
  h.child.kill('SIGKILL');
  await h.exited;
  const started = Date.now();
  const release = await acquireRunLock(state, 5_000);
  await release();
  assert.ok(Date.now() - started < 2_000);
});

test('a lock file that is a symbolic link is refused (exit 3), its target untouched', async () => {
  const state = await stateDir();
  const elsewhere = path.join(state, 'elsewhere');
  await fs.symlink(elsewhere, path.join(state, 'lock'));
  await assert.rejects(acquireRunLock(state, 1_000), (e: Error & { exitCode?: number; next?: string }) => {
    assert.equal(e.exitCode, 3);
    assert.match(e.message, /\/lock is a symbolic link: refusing to use it as the run lock/);
    assert.match(e.next ?? '', /^remove \S+\/lock/);
    return true;
  });
  await assert.rejects(fs.access(elsewhere));
});

test('a lock file writable by others, or owned by another user, is refused (exit 3)', async (t) => {
  const state = await stateDir();
  const lock = path.join(state, 'lock');
  await fs.writeFile(lock, '');
  await fs.chmod(lock, 0o666);
  await assert.rejects(acquireRunLock(state, 1_000), /\/lock is writable by others \(mode 666\)/);
  if (process.geteuid?.() !== 0) return t.diagnostic('not root: cannot give the file to another user');
  await fs.chmod(lock, 0o600);
  await fs.chown(lock, 65534, 65534);
  await assert.rejects(acquireRunLock(state, 1_000), /\/lock is owned by uid 65534, not by this user \(uid 0\)/);
});

test('a state dir below a directory other users can write is refused (exit 3) before anything is written; a sticky one like /tmp is fine', async () => {
  const open = await stateDir();
  await fs.chmod(open, 0o777);
  const state = path.join(open, 'state');
  await assert.rejects(acquireRunLock(state, 1_000), (e: Error & { exitCode?: number }) => {
    assert.equal(e.exitCode, 3);
    assert.match(e.message, new RegExp(`^${open}, above the state directory ${state}, is writable by other users \\(mode 0777\\) and not sticky`));
    return true;
  });
  assert.equal(await fs.stat(state).then(() => true, () => false), false, 'nothing was made under it');
  await fs.chmod(open, 0o1777);
  const release = await acquireRunLock(state, 1_000);
  await release();
});
