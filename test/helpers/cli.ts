// Runs the real CLI as a user would, in a child process.
import { execa } from 'execa';
import path from 'node:path';

export const repo = path.resolve(import.meta.dirname, '../..');

export function cli(args: string[], env: Record<string, string> = {}, opts: { input?: string } = {}) {
  return execa(process.execPath, ['--import', 'tsx', path.join(repo, 'src/cli.ts'), ...args], {
    cwd: repo,
    env: { NO_COLOR: '1', ...env },
    reject: false,
    input: opts.input,
    stdin: opts.input === undefined ? 'ignore' : undefined,
    timeout: 600_000,
  });
}
