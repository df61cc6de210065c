// A secret is never written into a file that exists already (a planted one, or a link to
// elsewhere): a fresh 0600 file, made exclusively beside the target, then renamed over it.
// The temporary has a fixed name, so one that a killed run left is replaced, never piles up.
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';

export const secretTemporary = (target: string): string => path.join(path.dirname(target), `.${path.basename(target)}.new`);

export async function writeSecretFile(target: string, content: string | Buffer): Promise<void> {
  const fresh = secretTemporary(target);
  await fs.rm(fresh, { force: true });
  const handle = await fs.open(fresh, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } catch (e) {
    await handle.close();
    await fs.rm(fresh, { force: true });
    throw e;
  }
  await handle.close();
  await fs.rename(fresh, target);
}
