// Key rotation without downtime. `--rotate`: a new pair takes keys/ and signs from then on, the
// old pair moves to keys-previous/ and the policy trusts both (keyPaths). `--retire-old`: the old
// pair goes and the policy trusts the new key only. The two renames of a rotation are announced
// in a journal first, so a rotation killed between them is finished by the next run, never
// mistaken for a missing key (which would silently make a third one).
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Context } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import { statePaths } from '../core/state.js';
import type { Step } from '../core/step.js';
import { done, todo } from '../core/step.js';
import type { Journal } from './key-journal.js';
import { exists, finishRotation, rotationUnfinished } from './key-journal.js';
import { envPassphrase, freshKeyPair, generateKeyPair, trustedPair } from './keys.js';

/** The old pair to keys-previous/, a new one to keys/. */
async function rotate(ctx: Context): Promise<void> {
  const p = statePaths(ctx.stateDir);
  if (await exists(p.previousKeysDir)) throw new UsageError(`a rotation is already under way: ${p.previousKeysDir} holds the old key, still trusted`, 'crio-sigpoc gen-keys --retire-old  (once everything is signed with the new key)');
  if (!(await trustedPair(ctx, p.keysDir)).publicKey) throw new UsageError(`there is no key pair in ${p.keysDir} to rotate`, 'crio-sigpoc gen-keys');
  const fromEnv = envPassphrase();
  const passphrase = fromEnv ?? randomBytes(24).toString('base64url');
  if (ctx.opts.dryRun) {
    await generateKeyPair(ctx, p.keysDir, passphrase, false);
    return ctx.recorder.move(p.keysDir, p.previousKeysDir);
  }
  const fresh = await freshKeyPair(ctx, p.keysDir, passphrase, fromEnv === undefined);
  await ctx.state.writeSecret(p.rotationJournal, JSON.stringify({ fresh } satisfies Journal) + '\n');
  await finishRotation(ctx);
}

export function keyRotationStep(): Step {
  let rotated = false;
  return {
    id: 'key-rotation',
    title: 'key rotation: a new pair signs, the old one stays trusted until --retire-old',
    async check(ctx) {
      const p = statePaths(ctx.stateDir);
      if (await rotationUnfinished(ctx)) return todo('an interrupted rotation is finished');
      if (rotated) return (await exists(p.previousKeysDir)) ? done(`old key kept in ${p.previousKeysDir}`) : todo('the old key is not kept');
      return todo('rotating the key pair');
    },
    async apply(ctx) {
      if (!(await finishRotation(ctx))) await rotate(ctx);
      rotated = true;
    },
  };
}

export function retireOldKeyStep(): Step {
  return {
    id: 'key-retire',
    title: 'old key retired: only the new key is trusted',
    async check(ctx) {
      const p = statePaths(ctx.stateDir);
      if (await rotationUnfinished(ctx)) return todo('an interrupted rotation is finished first');
      return (await exists(p.previousKeysDir)) ? todo(`the old key in ${p.previousKeysDir} is still trusted`) : done('no old key is trusted');
    },
    async apply(ctx) {
      await finishRotation(ctx);
      const p = statePaths(ctx.stateDir);
      if (ctx.opts.dryRun) return ctx.recorder.remove(p.previousKeysDir);
      // One rename takes it out of use; the removal after it can be interrupted harmlessly.
      const gone = path.join(ctx.stateDir, `.keys-previous-retired-${randomBytes(3).toString('hex')}`);
      await fs.rename(p.previousKeysDir, gone).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
      await fs.rm(gone, { recursive: true, force: true });
    },
  };
}
