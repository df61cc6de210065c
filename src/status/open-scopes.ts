// Which policy files on the node let an image in without verification: the policy CRI-O reads and
// every namespace policy. The pause image's scope is the one such door the tool's policy has on
// purpose; any other is named, as a warning, with its file and the fix.
import type { PolicyDocument } from '../policy/file.js';
import type { Check } from './check.js';
import { check } from './check.js';
import { admitsUnsigned } from './policy-content.js';

export interface PolicyFile {
  path: string;
  parsed?: PolicyDocument;
  /** Set for a namespace policy (<signature_policy_dir>/<namespace>.json). */
  namespace?: string;
}

export interface OpenScopeFacts {
  files: PolicyFile[];
  /** The scope the tool's policy lets in for CRI-O's pause image. */
  pauseScope: string;
}

export interface OpenScope {
  file: string;
  scope: string;
  namespace?: string;
}

/** Every scope (or default) whose requirements let an unsigned image in, file by file. */
export function openScopes(files: PolicyFile[]): OpenScope[] {
  const out: OpenScope[] = [];
  for (const f of files) {
    if (!f.parsed) continue;
    const at = { file: f.path, ...(f.namespace ? { namespace: f.namespace } : {}) };
    if (admitsUnsigned(f.parsed.default)) out.push({ ...at, scope: 'default' });
    for (const [scope, reqs] of Object.entries(f.parsed.transports?.docker ?? {})) if (admitsUnsigned(reqs)) out.push({ ...at, scope: scope === '' ? 'transports.docker[""]' : scope });
  }
  return out;
}

const where = (o: OpenScope): string => `${o.file}: ${o.scope === 'default' ? 'the default' : `"${o.scope}"`}${o.namespace ? ` (pods in namespace ${o.namespace})` : ''}`;

export function openScopesCheck(f: OpenScopeFacts): Check {
  const open = openScopes(f.files);
  const pause = open.filter((o) => !o.namespace && o.scope === f.pauseScope);
  const others = open.filter((o) => !pause.includes(o));
  const TITLE = 'scopes that skip verification';
  if (!others.length) {
    return check('open-scopes', TITLE, 'ok', pause.length ? `only "${f.pauseScope}", the pause image's scope, lets images in without verification` : 'no policy file lets an image in without verification');
  }
  const fixes = others.map((o) =>
    o.namespace
      ? `remove ${o.file}, or make it require a signature (a "sigstoreSigned" requirement with your key)`
      : `in ${o.file}, require a signature for ${o.scope === 'default' ? 'the default' : `"${o.scope}"`} (a "sigstoreSigned" requirement instead of "insecureAcceptAnything"), or remove it; crio-sigpoc install-policy puts the tool's policy back`,
  );
  return check('open-scopes', TITLE, 'warning', `unsigned images are let in without verification by ${others.map(where).join('; ')}`, { fix: [...new Set(fixes)].join('; ') });
}
