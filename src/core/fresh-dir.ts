// A directory of the state made whole before it is used: built in a fresh 0700 sibling, then
// swapped in, so that a failed or killed build never leaves a half-made one in its place.
import { promises as fs } from 'node:fs';
import path from 'node:path';

export async function replaceDirWith<T>(dir: string, build: (fresh: string) => Promise<T>): Promise<T> {
  await fs.mkdir(path.dirname(dir), { recursive: true, mode: 0o700 });
  const fresh = await fs.mkdtemp(path.join(path.dirname(dir), `.${path.basename(dir)}-new-`));
  try {
    const made = await build(fresh);
    await fs.rm(dir, { recursive: true, force: true });
    await fs.rename(fresh, dir);
    return made;
  } finally {
    await fs.rm(fresh, { recursive: true, force: true });
  }
}
