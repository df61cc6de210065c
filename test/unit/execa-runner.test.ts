// The one Runner that starts real programs: the user's COSIGN_PASSWORD reaches only the children
// whose command passes it; a missing program and a timeout are told apart.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ExecaRunner } from '../../src/core/execa-runner.js';
import { silentLog } from '../../src/ui/log.js';

const printPassword = { file: process.execPath, args: ['-e', 'process.stdout.write(process.env.COSIGN_PASSWORD ?? "<unset>")'] };

test("a child does not inherit the user's COSIGN_PASSWORD; a command that passes it in env does get it", async (t) => {
  const saved = process.env.COSIGN_PASSWORD;
  process.env.COSIGN_PASSWORD = 'users-secret';
  t.after(() => (saved === undefined ? delete process.env.COSIGN_PASSWORD : (process.env.COSIGN_PASSWORD = saved)));
  const runner = new ExecaRunner(silentLog);
  assert.equal((await runner.run(printPassword)).stdout, '<unset>');
  assert.equal((await runner.run({ ...printPassword, env: { COSIGN_PASSWORD: 'for-cosign' }, secretEnv: ['COSIGN_PASSWORD'] })).stdout, 'for-cosign');
  // Other variables still pass: the child runs in the user's environment otherwise.
  assert.equal((await runner.run({ file: process.execPath, args: ['-e', 'process.stdout.write(process.env.PATH ?? "")'] })).stdout, process.env.PATH);
});

test("a detached service does not inherit the user's COSIGN_PASSWORD", async (t) => {
  const saved = process.env.COSIGN_PASSWORD;
  process.env.COSIGN_PASSWORD = 'users-secret';
  t.after(() => (saved === undefined ? delete process.env.COSIGN_PASSWORD : (process.env.COSIGN_PASSWORD = saved)));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sigpoc-env-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const log = path.join(dir, 'service.log');
  await new ExecaRunner(silentLog).spawnDetached(printPassword, log);
  let text = '';
  for (let i = 0; i < 100 && !text; i++) {
    await new Promise((r) => setTimeout(r, 50));
    text = await readFile(log, 'utf8');
  }
  assert.equal(text, '<unset>');
});

test('a program that is not installed: exit 127 and the reason; one killed at its timeout: exit 124, timedOut', async () => {
  const runner = new ExecaRunner(silentLog);
  const missing = await runner.run({ file: 'crio-sigpoc-no-such-program', args: [] });
  assert.equal(missing.exitCode, 127);
  assert.equal(missing.timedOut, false);
  assert.match(missing.stderr, /ENOENT/);
  const slow = await runner.run({ file: 'sleep', args: ['5'], timeoutMs: 200 });
  assert.equal(slow.exitCode, 124);
  assert.equal(slow.timedOut, true);
});
