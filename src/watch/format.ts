// One line per decision, for a person or (--json) for a log shipper.
import type { SignatureEvent } from '../crio/log-events.js';

/** An event with, for an accepted pull, whether the scope deciding for its image requires a signature. */
export type WatchedEvent = SignatureEvent & { verified?: boolean };

export function eventLine(e: WatchedEvent): string {
  const where = [e.namespace && `namespace=${e.namespace}`, e.pod && `pod=${e.pod}`, e.container && `container=${e.container}`].filter(Boolean).join(' ');
  const policy = e.policy !== undefined ? `policy=${e.policy || '(library default)'}` : e.stage === 'create' ? 'policy=(CRI-O does not log it at creation)' : 'policy=(not in the log)';
  const verdict = e.outcome === 'rejected' ? `refused at ${e.stage}` : e.verified === true ? 'accepted pull (signature verified)' : e.verified === false ? 'accepted pull (its scope requires no signature)' : 'accepted pull';
  return [e.time ?? '-', verdict, e.image ?? '(image not in the log)', where, e.reason, policy].filter(Boolean).join('  ');
}

export const eventJson = (e: WatchedEvent): string => JSON.stringify(e);
