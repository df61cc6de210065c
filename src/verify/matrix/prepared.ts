// What each cached preparation of the matrix was made with (a key's hash, cosign's version, a GPG
// fingerprint): a preparation whose record differs from what it would be made with now is redone.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Context } from '../../core/context.js';
import { statePaths } from '../../core/state.js';

const recordFile = (ctx: Context, id: string): string => path.join(statePaths(ctx.stateDir).preparedDir, `${id}.json`);

/** Why preparation id must be redone although its images are there, or undefined. */
export async function restampReason(ctx: Context, id: string, now: string): Promise<string | undefined> {
  const made = await fs.readFile(recordFile(ctx, id), 'utf8').then((t) => JSON.parse(t).stamp as string, () => undefined);
  if (made === now) return undefined;
  return made ? `made with ${made}, now ${now}` : 'no record of the key it was made with';
}

export const recordStamp = (ctx: Context, id: string, stamp: string): Promise<void> => ctx.state.write(recordFile(ctx, id), JSON.stringify({ stamp }) + '\n');
