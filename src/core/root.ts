// --root names one tree however it is spelt (relative, `/.`, `//`, a trailing slash): one ledger per tree.
import path from 'node:path';

export const resolveRoot = (value: string): string => path.resolve(value);

/** A system path as it lies under root (the path itself when root is /). */
export const underRoot = (root: string, p: string): string => (root === '/' ? p : path.join(root, p));
