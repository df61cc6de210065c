// One line of `crio-sigpoc status`: what was checked, how it looks, and the command that fixes it.
import { EXIT } from '../core/errors.js';

export type Level = 'ok' | 'warning' | 'problem';

export interface Check {
  id: string;
  title: string;
  level: Level;
  detail: string;
  /** The command or edit that removes a warning or problem. */
  fix?: string;
  /** Lines that show why: a diff, log lines. */
  evidence?: string;
}

export const check = (id: string, title: string, level: Level, detail: string, more: { fix?: string; evidence?: string } = {}): Check => ({
  id,
  title,
  level,
  detail,
  ...(more.fix && level !== 'ok' ? { fix: more.fix } : {}),
  ...(more.evidence ? { evidence: more.evidence } : {}),
});

/** Exit 3 (environment not ready) when any check found a problem; warnings alone exit 0. */
export const statusExitCode = (checks: Check[]): number => (checks.some((c) => c.level === 'problem') ? EXIT.environment : EXIT.ok);

export function tally(checks: Check[]): Record<Level, number> {
  return {
    ok: checks.filter((c) => c.level === 'ok').length,
    warning: checks.filter((c) => c.level === 'warning').length,
    problem: checks.filter((c) => c.level === 'problem').length,
  };
}

/** A program that could not be started at all (ExecaRunner reports ENOENT as exit 127); one that timed out is installed. */
export const notInstalled = (r: { exitCode: number; stderr: string; timedOut?: boolean }): boolean => !r.timedOut && (r.exitCode === 127 || /\bENOENT\b/.test(r.stderr));

/**
 * How long a status probe may take. A healthy host answers in milliseconds; a slow one (a VM under
 * software emulation, every probe started at once) needs seconds, and a short limit there reads as
 * "broken" when it is only slow.
 */
export const PROBE_TIMEOUT_MS = 10_000;
