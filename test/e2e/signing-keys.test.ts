// gen-keys with the real cosign of this machine (installed by `crio-sigpoc setup --from source`):
// the passphrase is never written through a link, an empty one counts as unset, rotation is atomic.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Context } from '../../src/core/context.js';
import { which } from '../../src/core/which.js';
import { keyRotationStep, retireOldKeyStep } from '../../src/registry/key-rotation.js';
import { freshKeyPair, keyPassphrase, keysStep } from '../../src/registry/keys.js';
import { writeSecretFile } from '../../src/core/secret-file.js';
import { keyStateTree, modeOf } from '../helpers/key-state.js';
import { explain, sigpoc } from './helpers.js';

let cosign = '';
before(async () => {
  // The suite before this one ended with clean-all: the cosign under test is the one setup installs.
  const r = await sigpoc(['setup', '--from', 'source', '--yes']);
  assert.equal(r.exitCode, 0, explain(r));
  const found = await which(process.env.CRIO_SIGPOC_COSIGN || 'cosign');
  assert.ok(found, 'cosign is not installed after setup --from source');
  cosign = found;
});

async function setup(t: { after(fn: () => unknown): void }) {
  const tree = await keyStateTree(t);
  process.env.CRIO_SIGPOC_COSIGN = cosign;
  return tree;
}

/** The public key cosign derives from the private key and passphrase: proof that the pair works. */
const derivedPublicKey = (key: string, passphrase: string): string => execFileSync(cosign, ['public-key', '--key', key], { env: { ...process.env, COSIGN_PASSWORD: passphrase }, encoding: 'utf8' });
const converge = async (ctx: Context, step: ReturnType<typeof keysStep>): Promise<void> => {
  if ((await step.check(ctx)).state !== 'done') await step.apply(ctx);
  assert.equal((await step.check(ctx)).state, 'done', `${step.id} holds after apply`);
};
const generate = (ctx: Context, force = false): Promise<void> => converge(ctx, keysStep({ force }));
const works = async (dir: string): Promise<string> => {
  const pub = await fs.readFile(path.join(dir, 'cosign.pub'), 'utf8');
  assert.equal(derivedPublicKey(path.join(dir, 'cosign.key'), await fs.readFile(path.join(dir, 'cosign.password'), 'utf8')).trim(), pub.trim(), `the pair in ${dir} works`);
  return pub;
};


test('gen-keys never writes its passphrase through a symlink planted where the passphrase goes', async (t) => {
  const { ctx, p, root } = await setup(t);
  const victim = path.join(root, 'victim');
  await fs.writeFile(victim, 'not yours');
  await fs.mkdir(p.keysDir, { recursive: true, mode: 0o700 });
  await fs.symlink(victim, p.password);
  await generate(ctx).catch((e: Error & { exitCode?: number }) => assert.equal(e.exitCode, 3));
  assert.equal(await fs.readFile(victim, 'utf8'), 'not yours');
});

test('gen-keys with COSIGN_PASSWORD="" counts it as unset: a generated passphrase is kept 0600 and opens the key', async (t) => {
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

test('gen-keys --force rotates to a new working pair; a failed rotation leaves the old pair and passphrase working', async (t) => {
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

test('gen-keys --rotate keeps the old pair as the previous key and signs with a new one; --retire-old removes the old; a second rotation waits for the retirement (exit 2)', async (t) => {
  const { ctx, p } = await setup(t);
  await generate(ctx);
  const oldPub = await works(p.keysDir);
  await converge(ctx, keyRotationStep());
  const newPub = await works(p.keysDir);
  assert.notEqual(newPub, oldPub);
  assert.equal(await works(p.previousKeysDir), oldPub, 'the old pair is kept whole, still trusted');
  assert.deepEqual((await fs.readdir(ctx.stateDir)).sort(), ['keys', 'keys-previous'], 'no journal or half-made directory is left');

  const again = keyRotationStep();
  await assert.rejects(again.apply(ctx), (e: Error & { exitCode?: number; next?: string }) => e.exitCode === 2 && /already under way/.test(e.message) && /--retire-old/.test(e.next ?? ''));
  assert.equal(await fs.readFile(p.publicKey, 'utf8'), newPub, 'the refused rotation changed nothing');

  await converge(ctx, retireOldKeyStep());
  assert.equal(await works(p.keysDir), newPub);
  assert.deepEqual(await fs.readdir(ctx.stateDir), ['keys']);
  await converge(ctx, retireOldKeyStep());
});

for (const killed of ['before the old pair moved', 'between the two renames'] as const) {
  test(`a rotation killed ${killed} is finished by the next gen-keys: the new pair it made signs, no third key is made`, async (t) => {
    const { ctx, p } = await setup(t);
    await generate(ctx);
    const oldPub = await fs.readFile(p.publicKey, 'utf8');
    // What the rotation had done when it was killed: the new pair made whole and announced.
    const fresh = await freshKeyPair(ctx, p.keysDir, 'rotation-e2e', true);
    const madePub = await fs.readFile(path.join(fresh, 'cosign.pub'), 'utf8');
    await writeSecretFile(p.rotationJournal, JSON.stringify({ fresh }));
    if (killed === 'between the two renames') await fs.rename(p.keysDir, p.previousKeysDir);

    const st = await keysStep().check(ctx);
    assert.equal(st.state, 'todo');
    assert.match(st.state === 'todo' ? st.why : '', /interrupted key rotation/);
    await generate(ctx);
    assert.equal(await fs.readFile(p.publicKey, 'utf8'), madePub, 'the pair the rotation made, not a third');
    assert.equal(await fs.readFile(p.previousPublicKey, 'utf8'), oldPub);
    assert.deepEqual((await fs.readdir(ctx.stateDir)).sort(), ['keys', 'keys-previous']);
    await works(p.keysDir);
  });
}
