// --root names one tree however it is spelt (relative, `/.`, `//`, a trailing slash): one ledger per tree.
import path from 'node:path';

export const resolveRoot = (value: string): string => path.resolve(value);
