// Installing a file that an earlier action produces (a download, a build) into a system path.
import { promises as fs } from 'node:fs';
import type { Context } from '../core/context.js';

export const fileExists = (p: string): Promise<boolean> =>
  fs.stat(p).then(
    (st) => st.isFile() && st.size > 0,
    () => false,
  );

/**
 * Through ctx.files, so the original is backed up and clean-all removes it. Under --dry-run the
 * source may not exist yet (it is only downloaded or built in the real run): the plan still shows
 * the write, with its source instead of a size and digest.
 */
export async function installFromFile(ctx: Context, target: string, source: string, mode: number): Promise<'unchanged' | 'written'> {
  if (ctx.opts.dryRun && !(await fileExists(source))) {
    ctx.recorder.pendingWrite(ctx.sys(target), mode, source);
    return 'written';
  }
  return ctx.files.installFile(target, source, mode);
}

/** Is the system file already a byte-for-byte copy of source (and executable as wanted)? */
export async function sameAsSource(ctx: Context, target: string, source: string, mode: number): Promise<boolean> {
  const [t, s] = await Promise.all([fs.stat(ctx.sys(target)).catch(() => undefined), fs.stat(source).catch(() => undefined)]);
  // Sizes first: most differences show there without reading hundreds of MB.
  if (!t || !s || t.size !== s.size || (t.mode & 0o7777) !== mode) return false;
  return sameBytes(ctx.sys(target), source).catch(() => false);
}

/** Chunked compare: a converged lab rereads ~400 MB of binaries, so no whole-file buffers. */
async function sameBytes(a: string, b: string): Promise<boolean> {
  const chunk = 4 << 20;
  const [fa, fb] = await Promise.all([fs.open(a), fs.open(b)]);
  try {
    const [ba, bb] = [Buffer.allocUnsafe(chunk), Buffer.allocUnsafe(chunk)];
    for (let pos = 0; ; pos += chunk) {
      const [ra, rb] = await Promise.all([fa.read(ba, 0, chunk, pos), fb.read(bb, 0, chunk, pos)]);
      if (ra.bytesRead !== rb.bytesRead || !ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead))) return false;
      if (ra.bytesRead < chunk) return true;
    }
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}
