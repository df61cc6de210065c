// Reading a policy.json or key file that anyone may have put in place: regular files only (a FIFO
// would block the read forever, a device never ends), at most a size no policy reaches, and the
// file opened without blocking so a FIFO swapped in after the check cannot hang the tool either.
import { constants, promises as fs } from 'node:fs';
import { UsageError } from '../core/errors.js';

const POLICY_NEXT = 'point it at a regular JSON file (policy.json), not a device, FIFO or oversized file';

/** Far above any real policy.json or key; the library itself has no limit. */
export const POLICY_FILE_MAX_BYTES = 4 << 20;

/** Why a path is not a regular file, in words, or undefined when it is one. */
export function notRegular(st: import('node:fs').Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe): a reader waits until something writes to it';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/** The file's bytes; throws (with the reason) for anything but a regular file within the cap. */
export async function readPolicyBytes(file: string, max = POLICY_FILE_MAX_BYTES): Promise<Buffer> {
  const handle = await fs.open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await handle.stat();
    const why = notRegular(st);
    if (why) throw new UsageError(`${file} is ${why}, not a regular file`, POLICY_NEXT);
    if (st.size > max) throw new UsageError(`${file} has ${st.size} bytes, more than the ${max} read here`, POLICY_NEXT);
    const buf = Buffer.alloc(Math.min(st.size, max) + 1);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    if (bytesRead > max) throw new UsageError(`${file} grew past the ${max} bytes read here`, POLICY_NEXT);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
