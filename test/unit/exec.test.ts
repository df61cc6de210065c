import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describe as describeCmd } from '../../src/exec/command.js';
import { withPrivilege } from '../../src/exec/execa-runner.js';
import { signArgs, parseCosignVersion } from '../../src/tools/cosign.js';
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
