// The journal of a key rotation: written before its two renames, removed after them, so that a
// rotation killed between them is finished by the next run instead of mistaken for a missing key.
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Context } from '../core/context.js';
import { EnvironmentError } from '../core/errors.js';
import { statePaths } from '../core/state.js';
import { trustedStatePath } from '../core/trust.js';

export interface Journal {
  /** The directory holding the complete new pair, beside keys/. */
  fresh: string;
}

export const exists = (p: string): Promise<boolean> => fs.lstat(p).then(() => true, () => false);
const FRESH_NAME = /^\.keys-new-[A-Za-z0-9]{6}$/;

/** The journal of an unfinished rotation, if any; one that points outside the state dir is refused. */
async function readJournal(ctx: Context): Promise<Journal | undefined> {
  const file = statePaths(ctx.stateDir).rotationJournal;
  if (!(await trustedStatePath(file, { type: 'file', secret: true, log: ctx.log, dryRun: ctx.opts.dryRun }))) return undefined;
  const text = await fs.readFile(file, { encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NOFOLLOW });
  const j = JSON.parse(text) as Journal;
  if (typeof j.fresh !== 'string' || path.dirname(j.fresh) !== ctx.stateDir || !FRESH_NAME.test(path.basename(j.fresh))) {
    throw new EnvironmentError(`${file} names ${JSON.stringify(j.fresh)}, not a new key pair of this state directory`, `remove ${file} and check ${ctx.stateDir}/keys by hand`);
  }
  return j;
}

export const rotationUnfinished = async (ctx: Context): Promise<boolean> => (await readJournal(ctx)) !== undefined;

/** Completes the renames a journal announced (each one at most once); true when there was one. */
export async function finishRotation(ctx: Context): Promise<boolean> {
  const j = await readJournal(ctx);
  if (!j) return false;
  const p = statePaths(ctx.stateDir);
  if (ctx.opts.dryRun) return true;
  if (await exists(j.fresh)) {
    if (await exists(p.previousKeysDir)) {
      if (await exists(p.keysDir)) throw new EnvironmentError(`${p.keysDir}, ${p.previousKeysDir} and ${j.fresh} all exist: the rotation cannot be finished safely`, `keep the pair you sign with in ${p.keysDir}, remove the others and ${p.rotationJournal}`);
    } else if (await exists(p.keysDir)) {
      await fs.rename(p.keysDir, p.previousKeysDir);
    }
    await fs.rename(j.fresh, p.keysDir);
  }
  await fs.rm(p.rotationJournal);
  return true;
}

