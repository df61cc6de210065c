// The one shape of a program run: an argv array, never a shell string.
import { EnvironmentError } from './errors.js';
export interface Command {
  file: string;
  args: string[];
  /** Needs root: run directly as root, through sudo otherwise. */
  privileged?: boolean;
  /** Extra environment for the child only. */
  env?: Record<string, string>;
  /** Names in env whose values are secret: never printed, never in a plan. */
  secretEnv?: string[];
  cwd?: string;
  inputFile?: string;
  timeoutMs?: number;
  /** Changes nothing: also runs under --dry-run (checks read the real machine). */
  readOnly?: boolean;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface Runner {
  run(cmd: Command): Promise<RunResult>;
  /** Starts a long-lived program detached from this process; returns its pid. */
  spawnDetached(cmd: Command, logFile: string): Promise<number>;
}

export const ok = (r: RunResult): boolean => r.exitCode === 0 && !r.timedOut;

/** The argv as it is printed: secrets are named by their variable, never shown. */
export function describe(cmd: Command): string {
  const envPart = Object.keys(cmd.env ?? {})
    .map((k) => (cmd.secretEnv?.includes(k) ? `${k}=<secret>` : `${k}=${cmd.env![k]}`))
    .join(' ');
  const argv = [cmd.file, ...cmd.args].map(quoteForDisplay).join(' ');
  const sudo = cmd.privileged ? '[root] ' : '';
  return [sudo + (envPart ? envPart + ' ' : '') + argv, cmd.inputFile ? `< ${cmd.inputFile}` : '']
    .filter(Boolean)
    .join(' ');
}

function quoteForDisplay(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A program the tool ran failed: the environment, told with the program's own last lines. */
export class CommandFailed extends EnvironmentError {
  constructor(
    readonly cmd: Command,
    readonly result: RunResult,
  ) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-5).join('\n');
    super(`${describe(cmd)} exited ${result.timedOut ? 'on timeout' : result.exitCode}${tail ? `:\n${tail}` : ''}`, 'run it again with --verbose to see every command and its output');
  }
}

/** Runs and throws CommandFailed on a non-zero exit. */
export async function must(runner: Runner, cmd: Command): Promise<RunResult> {
  const r = await runner.run(cmd);
  if (!ok(r)) throw new CommandFailed(cmd, r);
  return r;
}
