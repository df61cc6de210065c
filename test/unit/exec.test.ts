import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describe as describeCmd } from '../../src/core/command.js';
import { withPrivilege } from '../../src/core/execa-runner.js';
import { signArgs, parseCosignVersion } from '../../src/registry/cosign.js';
import { readFileSync } from 'node:fs';

test('a secret in the environment is shown by name only, never by value', () => {
  const text = describeCmd({ file: 'cosign', args: ['sign', '--key', 'k', 'r@sha256:1'], env: { COSIGN_PASSWORD: 'hunter2', OTHER: 'x' }, secretEnv: ['COSIGN_PASSWORD'] });
  assert.ok(!text.includes('hunter2'));
  assert.match(text, /COSIGN_PASSWORD=<secret> OTHER=x cosign sign --key k r@sha256:1/);
});

test('as a normal user without a terminal, root commands go through sudo -n with the env names to keep', () => {
  const c = withPrivilege({ file: 'crictl', args: ['pull', 'x'], privileged: true, env: { A: '1' } }, false, false);
  assert.deepEqual([c.file, ...c.args], ['sudo', '-n', '--preserve-env=A', '--', 'crictl', 'pull', 'x']);
});

test("on a terminal sudo may prompt; as root nothing is wrapped; unprivileged commands never are", () => {
  assert.deepEqual(withPrivilege({ file: 'crictl', args: [], privileged: true }, false, true).args, ['--', 'crictl']);
  assert.equal(withPrivilege({ file: 'crictl', args: [], privileged: true }, true, false).file, 'crictl');
  assert.equal(withPrivilege({ file: 'cosign', args: [] }, false, false).file, 'cosign');
});

test('recorded: cosign versions of both lines are read from `cosign version`', () => {
  assert.deepEqual(parseCosignVersion(readFileSync('test/fixtures/recorded/cosign-v3.1.2-version.recorded.txt', 'utf8')), { version: 'v3.1.2', major: 3 });
  assert.deepEqual(parseCosignVersion(readFileSync('test/fixtures/recorded/cosign-v2.6.4-version.recorded.txt', 'utf8')), { version: 'v2.6.4', major: 2 });
});

test('sign flags: v3 needs all four switches for the legacy .sig format, v2 only the tlog off; always by digest', () => {
  const ref = '127.0.0.1:5003/alpine@sha256:abc';
  assert.deepEqual(signArgs(3, 'cosign.key', ref), ['sign', '--key', 'cosign.key', '--tlog-upload=false', '--yes', '--new-bundle-format=false', '--use-signing-config=false', ref]);
  assert.deepEqual(signArgs(2, 'cosign.key', ref), ['sign', '--key', 'cosign.key', '--tlog-upload=false', '--yes', ref]);
  assert.throws(() => signArgs(3, 'cosign.key', '127.0.0.1:5003/alpine:3.20.3'), /by digest/);
});

test('crictl is asked again when it failed validating its connection, and only then', async () => {
  const { runCrictl } = await import('../../src/crio/crictl.js');
  const { createContext } = await import('../../src/core/context.js');
  const { silentLog } = await import('../../src/ui/log.js');
  const race = 'time="2026-11-25T03:57:10Z" level=fatal msg="validate service connection: validate CRI v1 image API for endpoint \\"unix:///var/run/crio/crio.sock\\": rpc error: code = Unknown desc = get image fs info unable to get usage for /var/lib/containers/storage/overlay-images: lstat /var/lib/containers/storage/overlay-images/x: no such file or directory"';
  const answers = [{ exitCode: 1, stderr: race }, { exitCode: 0, stdout: 'Image is up to date for sha256:1' }];
  const calls: string[][] = [];
  const real = {
    run: async (cmd: { file: string; args: string[] }) => (calls.push([cmd.file, ...cmd.args]), { exitCode: 1, stdout: '', stderr: '', timedOut: false, ...answers.shift() }),
    spawnDetached: async () => 0,
  };
  const ctx = createContext({ root: '/', dryRun: false, json: true, verbose: false, yes: true }, { real, log: silentLog });
  const r = await runCrictl(ctx, ['pull', 'x']);
  assert.equal(r.exitCode, 0);
  assert.equal(calls.length, 2);
  const once: string[][] = [];
  const rejected = { exitCode: 1, stdout: '', stderr: 'level=fatal msg="pulling image: SignatureValidationFailed: …"', timedOut: false };
  const real2 = { run: async (cmd: { file: string; args: string[] }) => (once.push([cmd.file]), rejected), spawnDetached: async () => 0 };
  const ctx2 = createContext({ root: '/', dryRun: false, json: true, verbose: false, yes: true }, { real: real2, log: silentLog });
  await runCrictl(ctx2, ['pull', 'x']);
  assert.equal(once.length, 1, 'a verdict is never asked twice');
});
