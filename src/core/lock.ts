// One run at a time per state directory: a second run waits, then refuses with a clear message.
// The kernel holds the lock (flock(2) on an open descriptor of the lock file), so it never goes
// stale: a run paused for hours (Ctrl-Z) still holds it, and it ends with the process however the
// process ends. Node has no flock, so flock(1) takes it on a descriptor this process shares with it.
import { spawn } from 'node:child_process';
import { withPrivilege } from './execa-runner.js';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { EnvironmentError } from './errors.js';
import { trustedAncestors } from './trust.js';

/** flock(1)'s exit code when --wait runs out (chosen apart from its other failures). */
const CONFLICT = 75;

/** The lock file, opened without following a link, refused unless it is ours alone. */
async function openLockFile(target: string): Promise<fs.FileHandle> {
  const fix = `remove ${target} (no run holds a lock file that is not this user's regular file), then run the command again`;
  const fh = await fs.open(target, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ELOOP') throw new EnvironmentError(`${target} is a symbolic link: refusing to use it as the run lock`, fix);
    throw e;
  });
  const st = await fh.stat();
  const why = !st.isFile()
    ? 'not a regular file'
    : st.uid !== process.geteuid?.()
      ? `owned by uid ${st.uid}, not by this user (uid ${process.geteuid?.()})`
      : st.mode & 0o022
        ? `writable by others (mode ${(st.mode & 0o777).toString(8)})`
        : st.nlink !== 1
          ? `a file with ${st.nlink} hard links`
          : undefined;
  if (why) {
    await fh.close();
    throw new EnvironmentError(`${target} is ${why}: refusing to use it as the run lock`, fix);
  }
  return fh;
}

/** Waits up to waitMs for the exclusive lock on fh; true when taken. */
function flock(fh: fs.FileHandle, target: string, waitMs: number): Promise<boolean> {
  // fd 3 of the child is a duplicate of fh: the lock belongs to the open file they share, so it
  // outlives flock(1) and lasts until fh is closed.
  const child = spawn('flock', ['--exclusive', '--wait', String(waitMs / 1000), '--conflict-exit-code', String(CONFLICT), '3'], { stdio: ['ignore', 'ignore', 'pipe', fh.fd] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'ENOENT' ? new EnvironmentError('flock (util-linux) is not installed; it holds the run lock', 'sudo apt-get install util-linux') : e),
    );
    child.once('close', (code) => {
      if (code === 0) resolve(true);
      else if (code === CONFLICT) resolve(false);
      else reject(new EnvironmentError(`flock could not lock ${target}: ${stderr.trim() || `exit ${code}`}`));
    });
  });
}

export async function acquireRunLock(stateDir: string, waitMs = 120_000): Promise<() => Promise<void>> {
  // The lock is the first thing a run touches in its state dir: nobody else may be able to swap it.
  await trustedAncestors(stateDir);
  await fs.mkdir(stateDir, { recursive: true, mode: 0o700 });
  const target = path.join(stateDir, 'lock');
  const deadline = Date.now() + waitMs;
  for (;;) {
    const fh = await openLockFile(target);
    try {
      if (!(await flock(fh, target, Math.max(0, deadline - Date.now())))) {
        throw new EnvironmentError(
          `another crio-sigpoc run holds ${target} and did not finish within ${waitMs / 1000}s`,
          `wait for it to finish (a stopped one continues with \`fg\`), or check \`ps -ef | grep crio-sigpoc\``,
        );
      }
      // A run removes the file as it lets go, so no lock file outlives the runs: a lock taken on a
      // file no longer at the path guards nothing, and the one there now is tried instead.
      const [held, there] = [await fh.stat(), await fs.lstat(target).catch(() => undefined)];
      if (there && there.ino === held.ino && there.dev === held.dev) {
        return async () => {
          await fs.rm(target, { force: true });
          await fh.close();
        };
      }
    } catch (e) {
      await fh.close();
      throw e;
    }
    await fh.close();
  }
}

/**
 * The system ledger's lock, taken around each change to the ledger and the /etc file it records:
 * root's runs and a normal user's runs (which reach the ledger through sudo) hold different run
 * locks, so without it the two could interleave a read and a write of the one ledger and lose an
 * entry. It is kept, not removed, so both always lock the same file.
 */
export async function lockLedger(dir: string, opts: { viaSudo: boolean; waitMs?: number }): Promise<() => Promise<void>> {
  const waitMs = opts.waitMs ?? 120_000;
  const target = path.join(dir, 'ledger.lock');
  const busy = () =>
    new EnvironmentError(
      `another crio-sigpoc run holds ${target} (it is changing system files) and did not let go within ${waitMs / 1000}s`,
      'wait for it to finish, or check `ps -ef | grep crio-sigpoc`',
    );
  if (!opts.viaSudo) {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const fh = await openLockFile(target);
    try {
      if (!(await flock(fh, target, waitMs))) throw busy();
    } catch (e) {
      await fh.close();
      throw e;
    }
    return () => fh.close();
  }
  return sudoFlock(target, waitMs, busy);
}

/**
 * The lock through sudo: flock(1) as root takes it, then runs cat, which echoes the byte written
 * to it; that echo says the lock is held. It is held until cat's input closes, which happens at
 * release or when this process ends, however it ends.
 */
function sudoFlock(target: string, waitMs: number, busy: () => Error): Promise<() => Promise<void>> {
  const real = withPrivilege({ file: 'flock', args: ['--exclusive', '--wait', String(waitMs / 1000), '--conflict-exit-code', String(CONFLICT), '--', target, 'cat'], privileged: true });
  const child = spawn(real.file, real.args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  // A flock that failed at once has closed its input: its exit code tells why, not the EPIPE.
  child.stdin.on('error', () => {});
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', () =>
      resolve(async () => {
        child.stdin.end();
        await exited;
      }),
    );
    void exited.then((code) => reject(code === CONFLICT ? busy() : new EnvironmentError(`sudo flock could not lock ${target}: ${stderr.trim() || `exit ${code}`}`, 'check that sudo works: sudo -v')));
    child.stdin.write('\n');
  });
}
