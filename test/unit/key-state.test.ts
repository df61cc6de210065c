// The key pair and its passphrase in the state directory: reused only when they are the tool's own
// (tight modes, no links, our owner), written without following links, rotated atomically.
// The tests that run the real cosign are in test/e2e/keys.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { statePaths } from '../../src/core/state.js';
import { keyPassphrase, keysStep } from '../../src/registry/keys.js';
import { keyStateTree as setup, modeOf } from '../helpers/key-state.js';
import { writeSecretFile } from '../../src/core/secret-file.js';

const isRoot = process.geteuid?.() === 0;

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

test('a missing key pair beside the old key of a rotation, with no journal, is refused (exit 3): never a third key', async (t) => {
  const { ctx, p } = await setup(t);
  await fs.mkdir(p.previousKeysDir, { recursive: true, mode: 0o700 });
  await fs.writeFile(p.previousPublicKey, 'old public key\n');
  await assert.rejects(keysStep().check(ctx), (e: Error & { exitCode?: number; next?: string }) => {
    assert.equal(e.exitCode, 3);
    assert.match(e.message, /has no key pair, but .*keys-previous holds the old key of a rotation/);
    assert.match(e.next ?? '', /mv .*keys-previous .*keys/);
    return true;
  });
});

test('a rotation journal that names a directory outside the state directory is refused (exit 3), nothing is moved', async (t) => {
  const { ctx, p, root } = await setup(t);
  await fs.mkdir(path.join(root, 'elsewhere', '.keys-new-abcdef'), { recursive: true });
  await fs.mkdir(p.keysDir, { recursive: true, mode: 0o700 });
  await writeSecretFile(p.rotationJournal, JSON.stringify({ fresh: path.join(root, 'elsewhere', '.keys-new-abcdef') }));
  await assert.rejects(keysStep().check(ctx), (e: Error & { exitCode?: number }) => e.exitCode === 3 && /not a new key pair of this state directory/.test(e.message));
  await assert.rejects(keysStep().apply(ctx), (e: Error & { exitCode?: number }) => e.exitCode === 3);
  assert.ok((await fs.stat(p.keysDir)).isDirectory(), 'the key pair stays where it was');
  assert.ok((await fs.stat(path.join(root, 'elsewhere', '.keys-new-abcdef'))).isDirectory());
});
