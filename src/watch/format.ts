// One line per decision, for a person or (--json) for a log shipper.
import type { SignatureEvent } from '../crio/log-events.js';

export function eventLine(e: SignatureEvent): string {
  const where = [e.namespace && `namespace=${e.namespace}`, e.pod && `pod=${e.pod}`, e.container && `container=${e.container}`].filter(Boolean).join(' ');
  const policy = e.policy !== undefined ? `policy=${e.policy || '(library default)'}` : e.stage === 'create' ? 'policy=(CRI-O does not log it at creation)' : 'policy=(not in the log)';
  const verdict = e.outcome === 'rejected' ? `refused at ${e.stage}` : 'accepted pull';
  return [e.time ?? '-', verdict, e.image ?? '(image not in the log)', where, e.reason, policy].filter(Boolean).join('  ');
}

export const eventJson = (e: SignatureEvent): string => JSON.stringify(e);
