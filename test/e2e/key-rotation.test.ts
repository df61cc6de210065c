// A key rotation from start to end on the real lab, with `test` passing at every stage and no
// clean-all in between: an image signed with the old key only is admitted while the rotation is
// under way and refused once the old key is retired; one signed with the new key is admitted
// throughout. Runs as root.
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { promises as fs } from 'node:fs';
import { before, describe, test } from 'node:test';
import { signArgs } from '../../src/registry/cosign.js';
import { MATRIX } from '../../src/verify/matrix/cases.js';
import { explain, json, sigpoc } from './helpers.js';

const SOCK = 'unix:///var/run/crio/crio.sock';
const crictl = (args: string[]) => execa('crictl', ['--runtime-endpoint', SOCK, ...args], { reject: false });
const STATE = '/var/lib/crio-sigpoc';
const BASE = '127.0.0.1:5003/unsigned/alpine:3.20.3';
const KEY_ON_NODE = '/etc/containers/keys/crio-sigpoc-cosign.pub';
const PREVIOUS_ON_NODE = '/etc/containers/keys/crio-sigpoc-cosign-previous.pub';
const OLD_ONLY = '127.0.0.1:5003/rotation/old-key:1';
const NEW_ONLY = '127.0.0.1:5003/rotation/new-key:1';

/** An image of its own, pushed; returns repository@digest as the push produced it. */
async function push(ref: string): Promise<string> {
  const build = await execa('docker', ['build', '-q', '-t', ref, '-'], { input: `FROM ${BASE}\nLABEL rotation.e2e="${ref}"\n`, reject: false });
  assert.equal(build.exitCode, 0, String(build.stderr));
  const p = await execa('docker', ['push', ref], { reject: false });
  assert.equal(p.exitCode, 0, String(p.stderr));
  const digest = /digest: (sha256:[0-9a-f]{64})/.exec(String(p.stdout))?.[1];
  assert.ok(digest, String(p.stdout));
  return `${ref.replace(/:[^:/]+$/, '')}@${digest}`;
}

/** Signed with the pair the tool signs with now (its kept passphrase), as a user's pipeline would. */
async function signWithCurrentKey(byDigest: string): Promise<void> {
  const major = Number(/GitVersion:\s+v(\d+)/.exec(String((await execa('cosign', ['version'])).stdout))?.[1]);
  const passphrase = await fs.readFile(`${STATE}/keys/cosign.password`, 'utf8');
  const s = await execa('cosign', signArgs(major, `${STATE}/keys/cosign.key`, byDigest), { env: { COSIGN_PASSWORD: passphrase }, reject: false });
  assert.equal(s.exitCode, 0, String(s.stderr));
}

async function pull(image: string) {
  await crictl(['rmi', image]);
  const r = await crictl(['pull', image]);
  await crictl(['rmi', image]);
  return r;
}

async function admitted(image: string, when: string): Promise<void> {
  const r = await pull(image);
  assert.equal(r.exitCode, 0, `${when}: ${image} was refused: ${r.stderr}`);
}

async function testPasses(when: string): Promise<void> {
  const r = await sigpoc(['test', '--offline', '--json']);
  assert.equal(r.exitCode, 0, `${when}: ${explain(r)}`);
  const verdicts = json(r).verdicts as { name: string; pass: boolean }[];
  assert.deepEqual(verdicts.map((v) => v.name), MATRIX.map((c) => c.name), `${when}: every case ran`);
  assert.deepEqual(verdicts.filter((v) => !v.pass), [], `${when}: every verdict as it must be`);
}

describe('key rotation without downtime: gen-keys --rotate, then --retire-old, test passing at every stage', () => {
  let oldOnly = '';
  let oldPub = '';

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the end-to-end suite runs as root (it installs and starts CRI-O)');
    const s = await sigpoc(['setup', '--from', 'source', '--yes']);
    assert.equal(s.exitCode, 0, explain(s));
    await testPasses('before the rotation');
    oldPub = await fs.readFile(`${STATE}/keys/cosign.pub`, 'utf8');
    oldOnly = await push(OLD_ONLY);
    await signWithCurrentKey(oldOnly);
    await admitted(OLD_ONLY, 'before the rotation');
  });

  test('--rotate: a new key signs, the node trusts both; test passes; the old-key image and a new-key image are admitted', async () => {
    const r = await sigpoc(['gen-keys', '--rotate']);
    assert.equal(r.exitCode, 0, explain(r));
    const newPub = await fs.readFile(`${STATE}/keys/cosign.pub`, 'utf8');
    assert.notEqual(newPub, oldPub, 'a new key signs');
    assert.equal(await fs.readFile(PREVIOUS_ON_NODE, 'utf8'), oldPub, 'the old key stays trusted on the node');
    assert.equal(await fs.readFile(KEY_ON_NODE, 'utf8'), newPub);
    const policy = JSON.parse(await fs.readFile('/etc/crio/policy.json', 'utf8'));
    assert.deepEqual(policy.transports.docker['127.0.0.1:5003'][0].keyPaths, [KEY_ON_NODE, PREVIOUS_ON_NODE]);
    await admitted(OLD_ONLY, 'during the rotation');

    await testPasses('during the rotation');
    const signed = JSON.parse(await fs.readFile(`${STATE}/signed.json`, 'utf8'));
    assert.notEqual(signed.publicKeySha256, '', 'the signed image records its key');
    const newOnly = await push(NEW_ONLY);
    await signWithCurrentKey(newOnly);
    await admitted(NEW_ONLY, 'during the rotation');
    await admitted(OLD_ONLY, 'during the rotation, after test re-signed its images');

    const again = await sigpoc(['gen-keys', '--rotate']);
    assert.equal(again.exitCode, 2, explain(again));
    assert.match(again.stderr, /already under way/);
  });

  test('--retire-old: only the new key is trusted; test passes; the old-key image is refused with the library\'s words, the new-key image admitted', async () => {
    const r = await sigpoc(['gen-keys', '--retire-old']);
    assert.equal(r.exitCode, 0, explain(r));
    await assert.rejects(fs.stat(PREVIOUS_ON_NODE), /ENOENT/, 'the retired key left the node');
    await assert.rejects(fs.stat(`${STATE}/keys-previous`), /ENOENT/);
    const policy = JSON.parse(await fs.readFile('/etc/crio/policy.json', 'utf8'));
    assert.deepEqual(policy.transports.docker['127.0.0.1:5003'][0].keyPath, KEY_ON_NODE);

    const refused = await pull(OLD_ONLY);
    assert.notEqual(refused.exitCode, 0, 'an image signed with the retired key only was admitted');
    assert.match(String(refused.stderr), /SignatureValidationFailed: .*Source image rejected: cryptographic signature verification failed/, String(refused.stderr));
    await admitted(NEW_ONLY, 'after the retirement');
    await testPasses('after the retirement');
    const status = await sigpoc(['status', '--json']);
    assert.notEqual(status.exitCode, 1, explain(status));
  });
});
