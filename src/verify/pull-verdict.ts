// What a crictl pull said, in the user's terms: accepted, rejected for a signature reason, or an
// error that proves nothing about signatures (a registry down is NOT a rejection).
import type { RunResult } from '../exec/command.js';

export type PullOutcome =
  | { actual: 'accepted'; reason: string }
  | { actual: 'rejected'; reason: string }
  | { actual: 'error'; reason: string };

export const SIGNATURE_REASON = 'SignatureValidationFailed';

export function classifyPull(r: RunResult): PullOutcome {
  const text = `${r.stderr}\n${r.stdout}`.trim();
  if (r.exitCode === 0 && !r.timedOut) {
    const m = /Image is up to date for (\S+)/.exec(text);
    return { actual: 'accepted', reason: m ? `pulled (${m[1]})` : 'pulled' };
  }
  if (r.timedOut) return { actual: 'error', reason: 'crictl pull timed out' };
  const i = text.indexOf(SIGNATURE_REASON);
  if (i >= 0) return { actual: 'rejected', reason: oneLine(text.slice(i)) };
  return { actual: 'error', reason: oneLine(text) || `crictl exited ${r.exitCode}` };
}

/** The library's own words after CRI-O's wrapper, e.g. "A signature was required, but no signature exists". */
export function libraryReason(reason: string): string {
  const m = /Source image rejected: ([^;]+)/.exec(reason);
  return m ? m[1].trim() : reason;
}

const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ').replace(/^E\d{4} [\d:.]+\s+\d+ \S+\] /, '').trim();

/** CRI-O logs (at debug level) the policy file it applied to each pull: every one for image, in order. */
export function policyPathsFromLog(log: string, image: string): string[] {
  const found: string[] = [];
  for (const m of log.matchAll(/Using pull policy path for image (\S+): \\?"([^"\\]+)\\?"/g)) if (m[1] === image) found.push(m[2]);
  return found;
}
