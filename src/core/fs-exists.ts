import { promises as fs } from 'node:fs';

/** Does the path exist (for this process)? A question, never an error. */
export const pathExists = (p: string): Promise<boolean> =>
  fs.access(p).then(
    () => true,
    () => false,
  );
