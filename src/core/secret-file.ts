// A secret is never written into a file that exists already (a planted one, or a link to
// elsewhere): a fresh 0600 file, made exclusively beside the target, then renamed over it.
// The temporary has a fixed name, so one that a killed run left is replaced, never piles up.
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';

export const secretTemporary = (target: string): string => path.join(path.dirname(target), `.${path.basename(target)}.new`);

export const writeSecretFile = (target: string, content: string | Buffer): Promise<void> => writeFileAtomically(target, content, 0o600, secretTemporary(target));

/** The same for any file: a fresh temporary of a fixed name (so a killed write leaves one that is found again), then a rename. */
export async function writeFileAtomically(target: string, content: string | Buffer, mode: number, fresh: string): Promise<void> {
  await fs.rm(fresh, { force: true });
  const handle = await fs.open(fresh, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, mode);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } catch (e) {
    await handle.close();
    await fs.rm(fresh, { force: true });
    throw e;
  }
  // The umask may have narrowed the mode open() was given.
  await handle.chmod(mode);
  await handle.close();
  await fs.rename(fresh, target);
}
