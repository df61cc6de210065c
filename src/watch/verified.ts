// Whether an accepted pull was verified: CRI-O's log names the policy file but not the requirement
// that let the image in, so the scope deciding for the image is looked up in that file as the
// library does (policy/scope.ts), when the event is read. A file gone since (the matrix's namespace
// policy after `test`, a replay of old history) or one the library cannot load gives no answer.
import type { Context } from '../core/context.js';
import { decodePolicy } from '../policy/library-policy.js';
import { readPolicyBytes } from '../policy/read-policy.js';
import { decidingScope, normaliseImage } from '../policy/scope.js';

type Requirement = { type?: string };

export async function signatureRequired(ctx: Context, policyFile: string, image: string): Promise<boolean | undefined> {
  // "" is the library's default file, which CRI-O did not name.
  if (!policyFile) return undefined;
  try {
    const decided = decodePolicy(await readPolicyBytes(ctx.sys(policyFile)));
    if (!decided.ok) return undefined;
    const docker = ((decided.policy.transports ?? {}) as Record<string, Record<string, Requirement[]>>).docker ?? {};
    const scope = decidingScope(docker, normaliseImage(image));
    const reqs = scope === undefined ? (decided.policy.default as Requirement[]) : docker[scope];
    return reqs.some((r) => r.type === 'sigstoreSigned' || r.type === 'signedBy');
  } catch {
    return undefined;
  }
}
