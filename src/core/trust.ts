// State the tool reuses (keys, passphrases) must be what the tool itself wrote: ours, not a link,
// not open to other users. Loose modes on our own files are tightened; anything else is refused.
import type { Stats } from 'node:fs';
import { constants, promises as fs } from 'node:fs';
import { EnvironmentError } from './errors.js';
import type { Log } from '../ui/log.js';

export interface TrustOptions {
  type: 'file' | 'dir';
  /** Secret: no access at all for group and others (0600 files, 0700 dirs); else only not writable by them. */
  secret: boolean;
  log: Log;
  /** Under --dry-run a loose mode is only reported. */
  dryRun?: boolean;
  /** The uid that must own it: the effective user's unless said (another user's state dir under sudo). */
  owner?: number;
}

const wantedMode = (mode: number, o: TrustOptions): number => (o.secret ? (o.type === 'dir' ? 0o700 : 0o600) : mode & ~0o022);

/**
 * Whether path exists, once it is trusted: opened without following links (no race between the
 * check and the chmod), of the right type, owned by the effective user, its mode tightened if loose.
 * Refuses (exit 3) a symlink, another type, or another owner, naming the path and the fix.
 */
export async function trustedStatePath(path: string, o: TrustOptions): Promise<boolean> {
  const refuse = (why: string, fix = `remove it (rm -r ${path}) and run the command again, so that the tool makes it anew`): never => {
    throw new EnvironmentError(`${path} ${why}: the tool does not trust it`, fix);
  };
  const uid = o.owner ?? process.geteuid!();
  const judge = (st: Stats): void => {
    if (o.type === 'file' ? !st.isFile() : !st.isDirectory()) refuse(o.type === 'file' ? 'is not a regular file' : 'is not a directory');
    if (st.uid !== uid) refuse(`is owned by uid ${st.uid}, not by the user running the tool (uid ${uid})`, `remove it (rm -r ${path}) or, if its content is yours, chown ${uid} ${path}, then run the command again`);
  };
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | (o.type === 'dir' ? constants.O_DIRECTORY : 0);
  const handle = await fs.open(path, flags).catch(async (e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    const st = await fs.lstat(path);
    if (st.isSymbolicLink()) refuse('is a symbolic link');
    judge(st);
    throw e;
  });
  if (!handle) return false;
  try {
    const st = await handle.stat();
    judge(st);
    const mode = st.mode & 0o7777;
    const wanted = wantedMode(mode, o);
    if (mode !== wanted) {
      const octal = (m: number): string => m.toString(8).padStart(4, '0');
      o.log.warn(`${path} had mode ${octal(mode)}, open to other users: ${o.dryRun ? 'would tighten' : 'tightened'} to ${octal(wanted)}`);
      if (!o.dryRun) await handle.chmod(wanted);
    }
    return true;
  } finally {
    await handle.close();
  }
}

/**
 * The first of a directory's expected files that is not there, each trusted first (the directory
 * secret, 0700): undefined when the directory and all its files are the tool's own and present.
 */
export async function firstMissing(dir: string, files: { path: string; secret: boolean }[], o: Omit<TrustOptions, 'type' | 'secret'>): Promise<string | undefined> {
  if (!(await trustedStatePath(dir, { ...o, type: 'dir', secret: true }))) return dir;
  for (const f of files) if (!(await trustedStatePath(f.path, { ...o, type: 'file', secret: f.secret }))) return f.path;
  return undefined;
}

/**
 * Every directory above path (as the kernel resolves it) belongs to root or to the user and is not
 * writable by others, unless sticky like /tmp (where others cannot rename what is ours). Otherwise
 * another user could swap the state directory, or a link above it, between two of the tool's steps.
 */
export async function trustedAncestors(path: string, uid = process.geteuid!()): Promise<void> {
  let dir = path;
  for (;;) {
    const parent = dir.slice(0, Math.max(1, dir.lastIndexOf('/')));
    if (parent === dir) break;
    dir = parent;
    const real = await fs.realpath(dir).catch(() => undefined);
    if (real) {
      dir = real;
      break;
    }
  }
  const parts = dir.split('/').filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const at = '/' + parts.slice(0, i).join('/');
    const st = await fs.stat(at);
    const why =
      st.uid !== 0 && st.uid !== uid
        ? `is owned by uid ${st.uid}, neither root nor the user running the tool (uid ${uid})`
        : st.mode & 0o022 && !(st.mode & 0o1000)
          ? `is writable by other users (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}) and not sticky`
          : undefined;
    if (why) {
      throw new EnvironmentError(`${at}, above the state directory ${path}, ${why}: another user could replace the tool's state`, `use a state directory under a directory only you and root can write (CRIO_SIGPOC_STATE_DIR), or chmod go-w ${at}`);
    }
  }
}
