// One run at a time per state directory: a second run waits, then refuses with a clear message.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { EnvironmentError } from './errors.js';

export async function acquireRunLock(stateDir: string, waitMs = 120_000): Promise<() => Promise<void>> {
  const { default: lockfile } = await import('proper-lockfile');
  await fs.mkdir(stateDir, { recursive: true, mode: 0o700 });
  const target = path.join(stateDir, 'lock');
  try {
    return await lockfile.lock(target, {
      // No file to lock: only the lock directory exists, and only while a run holds it.
      realpath: false,
      stale: 30_000,
      update: 5_000,
      retries: { retries: Math.ceil(waitMs / 1000), factor: 1, minTimeout: 1000, maxTimeout: 1000 },
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOCKED') {
      throw new EnvironmentError(
        `another crio-sigpoc run holds ${target}.lock and did not finish within ${waitMs / 1000}s`,
        'wait for it to finish, or check `ps -ef | grep crio-sigpoc`',
      );
    }
    throw e;
  }
}
