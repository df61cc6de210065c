// The key pair and its passphrase in the state directory: reused only when they are the tool's own
// (tight modes, no links, our owner), written without following links, rotated atomically.
// gen-keys runs the real cosign; the tests that need it are skipped where it is not installed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createContext } from '../../src/core/context.js';
import type { Context } from '../../src/core/context.js';
import { statePaths } from '../../src/core/state.js';
import { which } from '../../src/core/which.js';
import { keyPassphrase, keysStep } from '../../src/registry/keys.js';
import { writeSecretFile } from '../../src/core/secret-file.js';

const cosign = await which(process.env.CRIO_SIGPOC_COSIGN || 'cosign');
const noCosign = cosign ? false : 'cosign is not installed';
const isRoot = process.geteuid?.() === 0;

async function setup(t: { after(fn: () => unknown): void }): Promise<{ ctx: Context; warnings: string[]; p: ReturnType<typeof statePaths>; root: string }> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'sigpoc-keys-'));
  const saved = { password: process.env.COSIGN_PASSWORD, cosign: process.env.CRIO_SIGPOC_COSIGN, state: process.env.CRIO_SIGPOC_STATE_DIR };
  delete process.env.COSIGN_PASSWORD;
  delete process.env.CRIO_SIGPOC_STATE_DIR;
  if (cosign) process.env.CRIO_SIGPOC_COSIGN = cosign;
  t.after(async () => {
    for (const [name, value] of [['COSIGN_PASSWORD', saved.password], ['CRIO_SIGPOC_COSIGN', saved.cosign], ['CRIO_SIGPOC_STATE_DIR', saved.state]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await fs.rm(root, { recursive: true, force: true });
  });
  const warnings: string[] = [];
  const log = { info() {}, debug() {}, warn: (m: string) => void warnings.push(m) };
  const ctx = createContext({ root, dryRun: false, json: true, verbose: false, yes: true }, { log });
  return { ctx, warnings, p: statePaths(ctx.stateDir), root };
}

const modeOf = async (p: string): Promise<number> => (await fs.lstat(p)).mode & 0o777;
/** The public key cosign derives from the private key and passphrase: proof that the pair works. */
const derivedPublicKey = (key: string, passphrase: string): string => execFileSync(cosign!, ['public-key', '--key', key], { env: { ...process.env, COSIGN_PASSWORD: passphrase }, encoding: 'utf8' });
const generate = async (ctx: Context, force = false): Promise<void> => {
  const step = keysStep({ force });
  if ((await step.check(ctx)).state !== 'done') await step.apply(ctx);
};

async function plantedKeys(p: ReturnType<typeof statePaths>, dirMode: number, passwordMode: number): Promise<void> {
  await fs.mkdir(p.keysDir, { recursive: true });
  await fs.chmod(p.keysDir, dirMode);
  await fs.writeFile(p.password, 'kept-passphrase');
  await fs.chmod(p.password, passwordMode);
}

test('a 0755 keys dir and a 0644 passphrase of our own are tightened to 0700 and 0600, said as a warning, then used', async (t) => {
  const { ctx, warnings, p } = await setup(t);
  await plantedKeys(p, 0o755, 0o644);
  assert.equal(await keyPassphrase(ctx), 'kept-passphrase');
  assert.equal(await modeOf(p.keysDir), 0o700);
  assert.equal(await modeOf(p.password), 0o600);
  assert.ok(warnings.some((w) => w.includes(p.keysDir) && /0755.*tightened to 0700/.test(w)), warnings.join('\n'));
  assert.ok(warnings.some((w) => w.includes(p.password) && /0644.*tightened to 0600/.test(w)), warnings.join('\n'));
});

test('a passphrase file that is a symlink is refused, exit 3, naming the path and the fix; its target is not read', async (t) => {
  const { ctx, p, root } = await setup(t);
  await fs.mkdir(p.keysDir, { recursive: true, mode: 0o700 });
  await fs.writeFile(path.join(root, 'elsewhere'), 'planted', { mode: 0o600 });
  await fs.symlink(path.join(root, 'elsewhere'), p.password);
  await assert.rejects(keyPassphrase(ctx), (e: Error & { exitCode?: number; next?: string }) => {
    assert.equal(e.exitCode, 3);
    assert.match(e.message, new RegExp(`${p.password} is a symbolic link`));
    assert.match(e.next ?? '', /rm -r .*cosign\.password/);
    return true;
  });
});

test('a keys dir that is a symlink, or a passphrase that is not a regular file, is refused by gen-keys, exit 3', async (t) => {
  const { ctx, p, root } = await setup(t);
  await fs.mkdir(path.join(root, 'other-keys'), { mode: 0o700 });
  await fs.mkdir(path.dirname(p.keysDir), { recursive: true });
  await fs.symlink(path.join(root, 'other-keys'), p.keysDir);
  await assert.rejects(keysStep().check(ctx), (e: Error & { exitCode?: number }) => e.exitCode === 3 && e.message.includes(`${p.keysDir} is a symbolic link`));
  await fs.rm(p.keysDir);
  await fs.mkdir(p.password, { recursive: true, mode: 0o700 });
  await assert.rejects(keysStep().check(ctx), (e: Error & { exitCode?: number }) => e.exitCode === 3 && e.message.includes(`${p.password} is not a regular file`));
});

test('a passphrase owned by another user is refused, exit 3, with the owner and the fix', { skip: isRoot ? false : 'chown to another user needs root' }, async (t) => {
  const { ctx, p } = await setup(t);
  await plantedKeys(p, 0o700, 0o600);
  await fs.chown(p.password, 65534, 65534);
  await assert.rejects(keyPassphrase(ctx), (e: Error & { exitCode?: number; next?: string }) => {
    assert.equal(e.exitCode, 3);
    assert.match(e.message, /cosign\.password is owned by uid 65534, not by the user running the tool \(uid 0\)/);
    assert.match(e.next ?? '', /chown 0 /);
    return true;
  });
});

test('a secret is written to a fresh file renamed over the target: a planted symlink is replaced, its target untouched', async (t) => {
  const { root } = await setup(t);
  const victim = path.join(root, 'victim');
  await fs.writeFile(victim, 'not yours');
  const target = path.join(root, 'secret');
  await fs.symlink(victim, target);
  await writeSecretFile(target, 's3cret');
  assert.equal(await fs.readFile(victim, 'utf8'), 'not yours');
  assert.ok((await fs.lstat(target)).isFile());
  assert.equal(await modeOf(target), 0o600);
  assert.equal(await fs.readFile(target, 'utf8'), 's3cret');
  assert.deepEqual((await fs.readdir(root)).sort(), ['secret', 'victim'], 'no temporary file is left');
});

test('gen-keys never writes its passphrase through a symlink planted where the passphrase goes', { skip: noCosign }, async (t) => {
  const { ctx, p, root } = await setup(t);
  const victim = path.join(root, 'victim');
  await fs.writeFile(victim, 'not yours');
  await fs.mkdir(p.keysDir, { recursive: true, mode: 0o700 });
  await fs.symlink(victim, p.password);
  await generate(ctx).catch((e: Error & { exitCode?: number }) => assert.equal(e.exitCode, 3));
  assert.equal(await fs.readFile(victim, 'utf8'), 'not yours');
});

test('gen-keys with COSIGN_PASSWORD="" counts it as unset: a generated passphrase is kept 0600 and opens the key', { skip: noCosign }, async (t) => {
  const { ctx, p } = await setup(t);
  process.env.COSIGN_PASSWORD = '';
  await generate(ctx);
  const kept = await fs.readFile(p.password, 'utf8');
  assert.ok(kept.length >= 24, 'a generated passphrase, not the empty one');
  assert.equal(await modeOf(p.password), 0o600);
  assert.equal(await modeOf(p.privateKey), 0o600);
  assert.equal(await modeOf(p.keysDir), 0o700);
  assert.equal(derivedPublicKey(p.privateKey, kept).trim(), (await fs.readFile(p.publicKey, 'utf8')).trim());
  assert.equal(await keyPassphrase(ctx), kept, 'signing reads the kept passphrase, not the empty variable');
});

test('gen-keys --force rotates to a new working pair; a failed rotation leaves the old pair and passphrase working', { skip: noCosign }, async (t) => {
  const { ctx, p } = await setup(t);
  await generate(ctx);
  const oldPub = await fs.readFile(p.publicKey, 'utf8');
  const oldPassphrase = await fs.readFile(p.password, 'utf8');

  // A real cause of failure: the cosign the tool is told to run is not there.
  process.env.CRIO_SIGPOC_COSIGN = path.join(ctx.stateDir, 'no-such-cosign');
  await assert.rejects(generate(ctx, true), (e: Error & { exitCode?: number }) => e.exitCode === 3);
  process.env.CRIO_SIGPOC_COSIGN = cosign;
  assert.equal(await fs.readFile(p.publicKey, 'utf8'), oldPub);
  assert.equal(await fs.readFile(p.password, 'utf8'), oldPassphrase);
  assert.equal(derivedPublicKey(p.privateKey, oldPassphrase).trim(), oldPub.trim(), 'the old pair still works');
  assert.deepEqual(await fs.readdir(ctx.stateDir), ['keys'], 'no half-made key directory is left beside it');

  await generate(ctx, true);
  const newPub = await fs.readFile(p.publicKey, 'utf8');
  assert.notEqual(newPub, oldPub);
  assert.equal(derivedPublicKey(p.privateKey, await fs.readFile(p.password, 'utf8')).trim(), newPub.trim(), 'the new pair works with the new passphrase');
  assert.equal(await modeOf(p.keysDir), 0o700);
  assert.deepEqual(await fs.readdir(ctx.stateDir), ['keys']);
});
