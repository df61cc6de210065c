// Without systemd the tool signals the services it started by their pid files: a pid file may be
// stale (the pid now someone else's) or planted, and neither may get an unrelated process killed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createContext } from '../../src/core/context.js';
import { identify } from '../../src/core/proc.js';
import { registryService } from '../../src/services/specs.js';
import { pidFile, readPidFile, supervisor } from '../../src/services/supervisor.js';
import { silentLog } from '../../src/ui/log.js';
import { tempTree } from '../helpers/tree.js';

/** A real, unrelated process (as a reused pid names one), and the real runner that would kill it. */
async function bystander() {
  const child = spawn('sleep', ['300'], { stdio: 'ignore' });
  await new Promise((r) => child.once('spawn', r));
  const alive = (): boolean => identify(child.pid!) !== undefined;
  return { pid: child.pid!, alive, [Symbol.asyncDispose]: async () => void child.kill('SIGKILL') };
}

async function machine() {
  const root = await tempTree();
  const ctx = createContext({ root, dryRun: false, json: true, verbose: false, yes: false }, { log: silentLog });
  const spec = { ...registryService(ctx), ready: async () => false };
  const plant = async (text: string, mode = 0o600): Promise<string> => {
    const file = pidFile(ctx, spec.name);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, text, { mode });
    await fs.chmod(file, mode);
    return file;
  };
  return { ctx, spec, plant };
}

test('a pid file naming an unrelated live process (only a pid, as a reused one is) gets nothing signalled', async () => {
  await using sleeper = await bystander();
  const { ctx, spec, plant } = await machine();
  await plant(`${sleeper.pid}\n`);
  await supervisor.reload(ctx, spec);
  await supervisor.stop(ctx, spec);
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(sleeper.alive(), 'the unrelated process was signalled');
  assert.equal((await supervisor.state(ctx, spec)).pid, undefined);
});

test('a pid file whose start time is not that of the process now holding the pid is stale: nothing signalled', async () => {
  await using sleeper = await bystander();
  const { ctx, spec, plant } = await machine();
  const now = identify(sleeper.pid)!;
  await plant(`${sleeper.pid}\n${Number(now.startTime) - 1}\n${now.bootId}\n`);
  assert.match(JSON.stringify(await readPidFile(ctx, spec.name)), /pid \d+ is no longer the process started then/);
  await supervisor.stop(ctx, spec);
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(sleeper.alive());
  // The same pid in a previous boot is not this process either.
  await plant(`${sleeper.pid}\n${now.startTime}\n00000000-0000-0000-0000-000000000000\n`);
  assert.ok(!('ours' in ((await readPidFile(ctx, spec.name)) ?? {})));
});

test('a pid file another user could have written is not believed, even when it names the right process', async () => {
  await using sleeper = await bystander();
  const { ctx, spec, plant } = await machine();
  const now = identify(sleeper.pid)!;
  const exact = `${sleeper.pid}\n${now.startTime}\n${now.bootId}\n`;
  const file = await plant(exact);
  assert.deepEqual(await readPidFile(ctx, spec.name), { ours: now }, 'the exact identity of the process is believed');
  await fs.chmod(file, 0o666);
  assert.deepEqual(await readPidFile(ctx, spec.name), { notOurs: `${file} is writable by others` });
  await fs.rm(file);
  const elsewhere = path.join(path.dirname(file), 'elsewhere');
  await fs.writeFile(elsewhere, exact);
  await fs.symlink(elsewhere, file);
  assert.deepEqual(await readPidFile(ctx, spec.name), { notOurs: `${file} is a symbolic link` });
  if (process.geteuid?.() === 0) {
    await fs.rm(file);
    await plant(exact);
    await fs.chown(file, 65534, 65534);
    assert.deepEqual(await readPidFile(ctx, spec.name), { notOurs: `${file} belongs to uid 65534, not to this user` });
  }
  await supervisor.stop(ctx, spec);
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(sleeper.alive());
});

test('run files live under /run (cleared at boot), not in the state directory', () => {
  const ctx = createContext({ root: '/', dryRun: true, json: true, verbose: false, yes: false }, { log: silentLog });
  if (process.geteuid?.() === 0) assert.equal(pidFile(ctx, 'crio'), '/run/crio-sigpoc/crio.pid');
  const rooted = createContext({ root: '/tmp/x', dryRun: true, json: true, verbose: false, yes: false }, { log: silentLog });
  assert.equal(pidFile(rooted, 'crio'), '/tmp/x/run/crio-sigpoc/crio.pid');
});

test('the process the supervisor started is recorded by identity, and stop ends exactly it', async (t) => {
  if (process.geteuid?.() !== 0) return t.diagnostic('not root: a privileged start would go through sudo');
  const { ctx } = await machine();
  const spec = { name: 'sleeper', unit: 'sleeper.service', argv: ['sleep', '300'], readyTimeoutMs: 5_000, ready: async () => (await readPidFile(ctx, 'sleeper')) !== undefined };
  await supervisor.start(ctx, spec);
  const r = await readPidFile(ctx, 'sleeper');
  assert.ok(r && 'ours' in r, JSON.stringify(r));
  const file = pidFile(ctx, 'sleeper');
  assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
  assert.equal((await fs.stat(path.dirname(file))).mode & 0o777, 0o700);
  await supervisor.stop(ctx, spec);
  assert.equal(identify(r.ours.pid), undefined, 'stopped');
  await assert.rejects(fs.access(file));
});
