// Is the policy CRI-O reads the one the tool renders? If not, does it still refuse unsigned images
// from the test registry? The difference is shown as a unified diff.
import type { PolicyDocument } from '../policy/file.js';
import { decidingScope, normaliseImage } from '../policy/scope.js';
import { IMAGES, imageRef } from '../core/settings.js';
import type { Check } from './check.js';
import { check } from './check.js';

export interface PolicyFacts {
  path: string;
  /** undefined: the file does not exist. */
  text?: string;
  /** Why it could not be read (permissions), when it exists. */
  readError?: string;
  /** The parse or schema error, with file, line and column. */
  parseError?: string;
  parsed?: PolicyDocument;
  rendered: string;
}

type Requirement = PolicyDocument['default'][number];

/** The scope that decides for an image, in the library's lookup order (shared with the linter). */
function decides(policy: PolicyDocument, image: string): { scope: string; requirements: Requirement[] } {
  const docker = policy.transports?.docker ?? {};
  const key = decidingScope(docker, normaliseImage(image));
  if (key === undefined) return { scope: 'default', requirements: policy.default };
  return { scope: key === '' ? 'transports.docker[""]' : key, requirements: docker[key] };
}

/** Every requirement must hold; only a list of insecureAcceptAnything lets an unsigned image in. */
export const admitsUnsigned = (reqs: Requirement[]): boolean => reqs.every((r) => r.type === 'insecureAcceptAnything');

/** JSON with sorted keys: two policies are the same whatever order their keys were written in. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

const TITLE = 'policy content';

export async function policyContentCheck(f: PolicyFacts): Promise<Check> {
  if (f.text === undefined && !f.readError) return check('policy', TITLE, 'problem', `${f.path} does not exist: CRI-O fails every pull`, { fix: 'crio-sigpoc install-policy' });
  if (f.readError) return check('policy', TITLE, 'warning', `cannot read ${f.path}: ${f.readError}`, { fix: 'sudo crio-sigpoc status' });
  if (!f.parsed) return check('policy', TITLE, 'problem', `${f.parseError ?? `${f.path} is not a valid policy`}; CRI-O fails every pull with it`, { fix: `fix ${f.path}, or put the rendered policy back: crio-sigpoc install-policy` });
  if (canonical(f.parsed) === canonical(JSON.parse(f.rendered))) return check('policy', TITLE, 'ok', `${f.path} is the policy crio-sigpoc renders`);

  const { createTwoFilesPatch } = await import('diff');
  const evidence = createTwoFilesPatch(f.path, 'rendered by crio-sigpoc', f.text!, f.rendered, undefined, undefined, { context: 2 })
    .split('\n')
    .filter((l) => !/^={10,}$/.test(l))
    .join('\n')
    .trimEnd();
  const unsigned = imageRef(IMAGES.unsigned);
  const decision = decides(f.parsed, unsigned);
  if (admitsUnsigned(decision.requirements)) {
    return check('policy', TITLE, 'problem', `${f.path} lets unsigned images in: ${unsigned} falls under ${decision.scope}, which accepts anything`, { fix: 'crio-sigpoc install-policy', evidence });
  }
  return check('policy', TITLE, 'warning', `${f.path} differs from the policy crio-sigpoc renders (yours, or drift?)`, { fix: 'crio-sigpoc install-policy  (if the difference is not yours)', evidence });
}
