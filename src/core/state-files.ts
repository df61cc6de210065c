// Writes into the state directory, one way for every writer: recorded for the plan, only
// recorded under --dry-run, atomic (a fixed temporary, then a rename), and never through a
// symbolic link or out of the state directory.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { EnvironmentError, InternalError } from './errors.js';
import type { Recorder } from './plan.js';
import { secretTemporary, writeFileAtomically } from './secret-file.js';

export class StateFiles {
  constructor(private readonly o: { stateDir: string; recorder: Recorder; dryRun: boolean }) {}

  /** The path, once it is known to lie inside the state directory with no link on the way. */
  private async inside(p: string): Promise<string> {
    const target = path.resolve(p);
    const rel = path.relative(this.o.stateDir, target);
    if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) throw new InternalError(`${p} is not inside the state directory ${this.o.stateDir}`);
    let dir = this.o.stateDir;
    for (const part of rel.split(path.sep).slice(0, -1)) {
      dir = path.join(dir, part);
      const st = await fs.lstat(dir).catch(() => undefined);
      if (st?.isSymbolicLink()) throw new EnvironmentError(`${dir} is a symbolic link: the tool writes nothing through it`, `remove it (rm ${dir}) and run the command again`);
      if (st && !st.isDirectory()) throw new EnvironmentError(`${dir} is not a directory`, `remove it (rm ${dir}) and run the command again`);
    }
    return target;
  }

  async write(p: string, content: string | Buffer, mode = 0o644): Promise<void> {
    const target = await this.inside(p);
    this.o.recorder.write(target, content, mode);
    if (this.o.dryRun) return;
    await fs.mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
    await writeFileAtomically(target, content, mode, secretTemporary(target));
  }

  /** 0600, never through a file planted in its place. */
  writeSecret(p: string, content: string | Buffer): Promise<void> {
    return this.write(p, content, 0o600);
  }

  /**
   * A directory made whole before it is used: built in a fresh 0700 sibling, then swapped in, so a
   * failed or killed build never leaves a half-made one in its place. Under --dry-run, build is
   * handed the directory itself: its commands and writes are only recorded.
   */
  async replaceDir<T>(dir: string, build: (fresh: string) => Promise<T>): Promise<T> {
    const target = await this.inside(dir);
    if (this.o.dryRun) return build(target);
    return replaceDirWith(target, build);
  }

  async remove(p: string): Promise<void> {
    const target = await this.inside(p);
    if (!(await fs.lstat(target).catch(() => undefined))) return;
    this.o.recorder.remove(target);
    if (!this.o.dryRun) await fs.rm(target, { recursive: true, force: true });
  }
}

async function replaceDirWith<T>(dir: string, build: (fresh: string) => Promise<T>): Promise<T> {
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
