import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import type { Command, RunResult, Runner } from './command.js';
import { describe } from './command.js';
import { which } from './which.js';
import { timed } from './profile.js';
import type { Log } from '../ui/log.js';

export const isRoot = (): boolean => process.getuid?.() === 0;

/** Secrets the user may export for the tool: a child gets one only when its command passes it in env. */
export const SECRET_ENV = ['COSIGN_PASSWORD'] as const;

/** The environment of a child: the tool's own without its secrets, plus what the command asks for. */
export function childEnv(extra: Record<string, string> = {}, inherited: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env = { ...inherited };
  for (const name of SECRET_ENV) delete env[name];
  return { ...env, ...extra };
}

/**
 * Privileged commands run directly as root and through sudo otherwise: sudo's own prompt on a
 * TTY, `sudo -n` without one so that a missing grant fails at once instead of hanging.
 */
export function withPrivilege(cmd: Command, root = isRoot(), tty = Boolean(process.stdin.isTTY)): Command {
  if (!cmd.privileged || root) return cmd;
  const keep = Object.keys(cmd.env ?? {});
  const sudoArgs = [...(tty ? [] : ['-n']), ...(keep.length ? [`--preserve-env=${keep.join(',')}`] : []), '--', cmd.file, ...cmd.args];
  return { ...cmd, file: 'sudo', args: sudoArgs };
}

export class ExecaRunner implements Runner {
  /** execa takes ~70 ms to load: start loading it at once, alongside the rest of the start-up. */
  private readonly execa = import('execa');

  constructor(private readonly log: Log) {
    this.execa.catch(() => {});
  }

  async run(cmd: Command): Promise<RunResult> {
    const { execa } = await this.execa;
    const real = withPrivilege(cmd);
    this.log.debug(`$ ${describe(cmd)}`);
    if (real.file === 'sudo' && !(await which('sudo'))) {
      return { exitCode: 126, stdout: '', stderr: `${cmd.file} needs root and sudo is not installed: run crio-sigpoc as root`, timedOut: false };
    }
    const r = await timed(describe(cmd), () => execa(real.file, real.args, {
      reject: false,
      // execa would add process.env back (secrets included) unless told not to.
      env: childEnv(real.env),
      extendEnv: false,
      cwd: real.cwd,
      inputFile: real.inputFile,
      stdin: real.inputFile ? undefined : 'ignore',
      timeout: real.timeoutMs,
      stripFinalNewline: true,
      maxBuffer: 64 * 1024 * 1024,
    }), true);
    const result: RunResult = {
      // No exit code: killed at its timeout (124, as timeout(1) says) or never started (127, as a shell says).
      exitCode: r.exitCode ?? (r.timedOut ? 124 : r.failed ? 127 : 0),
      stdout: String(r.stdout ?? ''),
      stderr: String(r.stderr ?? ''),
      timedOut: Boolean(r.timedOut),
    };
    // A program that could not be started at all has no exit code: say why instead.
    if (r.failed && r.exitCode === undefined && !r.timedOut) result.stderr ||= r.shortMessage ?? 'could not start';
    if (result.stdout) this.log.debug(indent(result.stdout));
    if (result.stderr) this.log.debug(indent(result.stderr));
    return result;
  }

  async spawnDetached(cmd: Command, logFile: string): Promise<number> {
    const real = withPrivilege(cmd);
    this.log.debug(`$ ${describe(cmd)} (detached, log ${logFile})`);
    // A service must outlive this process: its own session, its output straight into the log file.
    const fd = openSync(logFile, 'a');
    try {
      const child = spawn(real.file, real.args, {
        detached: true,
        stdio: ['ignore', fd, fd],
        env: childEnv(real.env),
        cwd: real.cwd,
      });
      const pid = await new Promise<number>((resolve, reject) => {
        child.once('error', reject);
        child.once('spawn', () => resolve(child.pid!));
      });
      child.unref();
      return pid;
    } finally {
      closeSync(fd);
    }
  }
}

const indent = (s: string): string =>
  s
    .split('\n')
    .map((l) => '    ' + l)
    .join('\n');
