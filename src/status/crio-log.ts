// The latest lines of CRI-O's log about signatures and policy: the evidence a user would otherwise
// grep the journal for. Read-only: the tool's own log file without systemd, the journal with it.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Context } from '../core/context.js';
import type { ServiceMode } from '../services/types.js';
import { statePaths } from '../core/state.js';
import type { Check } from './check.js';
import { check } from './check.js';

export interface CrioLogFacts {
  /** Where the lines came from: a file, or the journal. */
  source?: string;
  text?: string;
  error?: string;
}

const RELEVANT = /signature|policy|sigstore/i;
/** Image metadata that merely names signature sizes. */
const NOISE = /signatures?-sizes/;

/** The msg="…" of a logfmt line (CRI-O's and crictl's log format), unescaped. */
export function logfmtMessage(line: string): string | undefined {
  return /msg="((?:[^"\\]|\\.)*)"/.exec(line)?.[1].replace(/\\(.)/g, '$1').trim();
}

/** A person needs the time, the level and the message of a log line, not its source position. */
export function condense(line: string): string {
  const msg = logfmtMessage(line);
  if (msg === undefined) return line;
  const time = /time="[^"]*T(\d\d:\d\d:\d\d)/.exec(line)?.[1];
  const level = /level=(\w+)/.exec(line)?.[1];
  return [time, level, msg].filter(Boolean).join(' ');
}
const TITLE = "CRI-O's recent signature log lines";

export function crioLogCheck(f: CrioLogFacts, max = 10): Check {
  if (!f.source) return check('crio-log', TITLE, 'warning', f.error ?? 'no CRI-O log found');
  if (f.error) return check('crio-log', TITLE, 'warning', `cannot read ${f.source}: ${f.error}`, { fix: 'sudo crio-sigpoc status' });
  const lines = (f.text ?? '').split('\n').filter((l) => RELEVANT.test(l) && !NOISE.test(l));
  if (!lines.length) return check('crio-log', TITLE, 'ok', `none in the latest lines of ${f.source}`);
  const shown = lines.slice(-max);
  return check('crio-log', TITLE, 'ok', `${shown.length} of ${lines.length} from ${f.source}`, { evidence: shown.map(condense).join('\n') });
}

/** The last bytes of a file: enough for the latest lines, fast however large the log grew. */
export async function tail(file: string, bytes = 256 * 1024): Promise<string> {
  const fh = await fs.open(file, 'r');
  try {
    const { size } = await fh.stat();
    const start = Math.max(0, size - bytes);
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

export async function crioLogFacts(ctx: Context, mode: ServiceMode): Promise<CrioLogFacts> {
  const file = path.join(statePaths(ctx.stateDir).logsDir, 'crio.log');
  // Under systemd CRI-O logs to the journal, whatever files the state dir holds.
  if (mode !== 'systemd') {
    try {
      return { source: file, text: await tail(file) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return { source: file, error: (e as Error).message };
      return { error: `no ${file}, and no systemd journal to read` };
    }
  }
  // A system unit's journal is root's (or the systemd-journal group's): a normal user's journalctl
  // exits 0 showing nothing, so it runs through sudo; and a slow VM needs more than a few seconds.
  const r = await ctx.probe.run({ file: 'journalctl', args: ['-u', 'crio', '-n', '200', '--no-pager', '-o', 'short-iso'], privileged: true, readOnly: true, timeoutMs: 10_000 });
  if (r.exitCode !== 0) return { source: 'journalctl -u crio', error: (r.stderr || r.stdout).trim().split('\n').pop() || `journalctl exited ${r.exitCode}` };
  return { source: 'journalctl -u crio (last 200 lines)', text: r.stdout };
}
