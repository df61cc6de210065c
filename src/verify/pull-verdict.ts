// What a crictl pull said, in the user's terms: accepted, rejected for a signature reason, or an
// error that proves nothing about signatures (a registry down is NOT a rejection).
import type { RunResult } from '../core/command.js';
import { SIGNATURE_REASON, signatureReason } from '../crio/log-events.js';

export type PullOutcome =
  | { actual: 'accepted'; reason: string }
  | { actual: 'rejected'; reason: string }
  | { actual: 'error'; reason: string };

export { SIGNATURE_REASON };

export function classifyPull(r: RunResult): PullOutcome {
  const text = `${r.stderr}\n${r.stdout}`.trim();
  if (r.exitCode === 0 && !r.timedOut) {
    const m = /Image is up to date for (\S+)/.exec(text);
    return { actual: 'accepted', reason: m ? `pulled (${m[1]})` : 'pulled' };
  }
  if (r.timedOut) return { actual: 'error', reason: 'crictl pull timed out' };
  const line = lastLine(text, SIGNATURE_REASON);
  if (line) return { actual: 'rejected', reason: signatureReason(line) };
  return { actual: 'error', reason: errorReason(text) || `crictl exited ${r.exitCode}` };
}

/** crictl repeats CRI-O's error on an E… line and a level=fatal line; the last one is enough. */
const lastLine = (text: string, needle: string): string | undefined =>
  text
    .split('\n')
    .filter((l) => l.includes(needle))
    .pop();

function errorReason(text: string): string {
  const fatal = lastLine(text, 'level=fatal');
  if (fatal) return unquote(fatal.replace(/^.*level=fatal msg="/, '').replace(/"\s*$/, ''));
  return oneLine(text.split('\n').filter((l) => !l.includes('level=warning')).join('\n'));
}

const unquote = (s: string): string => s.replace(/\\"/g, '"');

const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ').replace(/^E\d{4} [\d:.]+\s+\d+ \S+\] /, '').trim();
