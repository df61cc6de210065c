// The signature refusals of the last hour, counted by CRI-O's reason: read with the parser `watch`
// uses, from the end of the supervised log file or from the journal.
import path from 'node:path';
import type { Context } from '../core/context.js';
import { statePaths } from '../core/state.js';
import type { SignatureEvent } from '../crio/log-events.js';
import { eventsFromText } from '../crio/log-events.js';
import type { ServiceMode } from '../services/types.js';
import type { Check } from './check.js';
import { check } from './check.js';
import { tail } from './crio-log.js';

export interface RejectionFacts {
  source?: string;
  since: Date;
  rejections?: SignatureEvent[];
  /** The log read did not reach back to `since` (only its end was read). */
  partialFrom?: string;
  error?: string;
}

const HOUR = 3_600_000;
/** CRI-O at debug level writes megabytes a minute while pods come and go; status stays fast. */
const MAX_BYTES = 32 << 20;
/** Only the lines of pulls and creations can make an event: the rest is skipped before parsing. */
const RPC_LINE = /name=\/runtime\.v1\.(ImageService\/PullImage|RuntimeService\/CreateContainer)/;

export async function rejectionFacts(ctx: Context, mode: ServiceMode, now = new Date()): Promise<RejectionFacts> {
  const since = new Date(now.getTime() - HOUR);
  const recent = (text: string): SignatureEvent[] =>
    eventsFromText(text.split('\n').filter((l) => RPC_LINE.test(l)).join('\n')).filter((e) => e.outcome === 'rejected' && (!e.time || new Date(e.time) >= since));
  const file = path.join(statePaths(ctx.stateDir).logsDir, 'crio.log');
  // Under systemd CRI-O logs to the journal, whatever files the state dir holds.
  if (mode !== 'systemd') {
    try {
      const text = await tail(file, MAX_BYTES);
      const firstTime = /time="([^"]+)"/.exec(text)?.[1];
      const full = text.length < MAX_BYTES || (firstTime !== undefined && new Date(firstTime) <= since);
      return { source: file, since, rejections: recent(text), ...(full ? {} : { partialFrom: firstTime }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return { source: file, since, error: (e as Error).message };
      return { since, error: `no ${file}, and no systemd journal to read` };
    }
  }
  const args = ['-u', 'crio', `--since=@${Math.floor(since.getTime() / 1000)}`, '--no-pager', '-o', 'cat', '--grep', 'SignatureValidationFailed'];
  // A system unit's journal is root's (or the systemd-journal group's): a normal user's journalctl
  // exits 0 showing nothing, so it runs through sudo; and a slow VM needs more than a few seconds.
  const r = await ctx.probe.run({ file: 'journalctl', args, privileged: true, readOnly: true, timeoutMs: 10_000 });
  // journalctl --grep exits 1 when nothing matched.
  if (r.exitCode !== 0 && r.stdout.trim()) return { source: 'journalctl -u crio', since, error: (r.stderr || r.stdout).trim().split('\n').pop() };
  return { source: 'journalctl -u crio', since, rejections: r.exitCode === 0 ? recent(r.stdout) : [] };
}

const TITLE = 'Signature refusals in the last hour';

export function rejectionsCheck(f: RejectionFacts): Check {
  if (f.error || !f.rejections) return check('signature-rejections', TITLE, 'warning', f.error ?? 'no CRI-O log found', { fix: 'sudo crio-sigpoc status' });
  const window = f.partialFrom ? ` (the log read reaches back to ${f.partialFrom} only)` : '';
  if (!f.rejections.length) return check('signature-rejections', TITLE, 'ok', `none in ${f.source}${window}`);
  const counts = new Map<string, number>();
  for (const e of f.rejections) {
    const key = `at ${e.stage}: ${e.reason}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const evidence = [...counts].sort((a, b) => b[1] - a[1]).map(([reason, n]) => `${String(n).padStart(4)}× ${reason}`).join('\n');
  return check('signature-rejections', TITLE, 'ok', `${f.rejections.length} in ${f.source}${window}; watch them live: crio-sigpoc watch`, { evidence });
}
