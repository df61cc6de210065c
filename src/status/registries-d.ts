// Will the containers library look for cosign signatures of the signed test image? Only when
// registries.d sets use-sigstore-attachments for its scope; `sigstore:` is the old name of
// `lookaside` (GPG signatures on a web server) and is the classic mistake of the original proof.
import { SYSTEM_PATHS } from '../settings.js';
import type { Check } from './check.js';
import { check } from './check.js';

export interface RegistriesDFile {
  path: string;
  /** The parsed YAML, or the parse error. */
  doc?: unknown;
  error?: string;
}

export interface RegistriesDFacts {
  dir: string;
  files: RegistriesDFile[];
  /** A per-user registries.d of the user CRI-O runs as, which wins over dir when it exists. */
  shadowedBy?: string;
}

type Entry = { 'use-sigstore-attachments'?: unknown; sigstore?: unknown; lookaside?: unknown };
const TITLE = 'registries.d (where signatures are looked up)';

/** The scopes the library tries for a docker reference, most specific first. */
function lookupScopes(repository: string, tag: string): string[] {
  const parts = repository.split('/');
  return [`${repository}:${tag}`, ...parts.map((_, i) => parts.slice(0, parts.length - i).join('/'))];
}

export function registriesDCheck(f: RegistriesDFacts, repository: string, tag: string): Check {
  const fix = `crio-sigpoc install-policy  (writes ${SYSTEM_PATHS.registriesDFile} with use-sigstore-attachments: true)`;
  if (f.shadowedBy) return check('registries-d', TITLE, 'problem', `${f.shadowedBy} exists, so the library ignores ${f.dir} entirely`, { fix: `move ${f.shadowedBy} away, or put the entry there` });
  const broken = f.files.find((x) => x.error);
  if (broken) return check('registries-d', TITLE, 'problem', `${broken.path} does not parse (${broken.error}): the library fails every pull`, { fix: `fix or remove ${broken.path}` });

  // The library merges every file; a scope defined twice is an error there too.
  const scopes = new Map<string, { file: string; entry: Entry }>();
  let defaultDocker: { file: string; entry: Entry } | undefined;
  for (const file of f.files) {
    const doc = (file.doc ?? {}) as { docker?: Record<string, Entry>; 'default-docker'?: Entry };
    for (const [scope, entry] of Object.entries(doc.docker ?? {})) {
      const before = scopes.get(scope);
      if (before) return check('registries-d', TITLE, 'problem', `scope ${scope} is defined in both ${before.file} and ${file.path}: the library refuses both`, { fix: `keep ${scope} in one file` });
      scopes.set(scope, { file: file.path, entry: entry ?? {} });
    }
    if (doc['default-docker']) defaultDocker = { file: file.path, entry: doc['default-docker'] };
  }

  const chain = lookupScopes(repository, tag).flatMap((s) => (scopes.has(s) ? [{ scope: s, ...scopes.get(s)! }] : []));
  if (defaultDocker) chain.push({ scope: 'default-docker', ...defaultDocker });
  // The first entry that sets the key decides (docker/registries_d.go, useSigstoreAttachments).
  const decider = chain.find((c) => c.entry['use-sigstore-attachments'] !== undefined);
  if (decider?.entry['use-sigstore-attachments'] === true) {
    return check('registries-d', TITLE, 'ok', `use-sigstore-attachments: true for ${decider.scope} in ${decider.file}`);
  }
  const sigstoreKey = chain.find((c) => c.entry.sigstore !== undefined);
  if (sigstoreKey) {
    return check(
      'registries-d',
      TITLE,
      'problem',
      `${sigstoreKey.file} sets \`sigstore: ${String(sigstoreKey.entry.sigstore)}\` for ${sigstoreKey.scope}: that is the old name of \`lookaside\` (GPG signatures), not Sigstore; cosign signatures are never fetched and the signed image is rejected`,
      { fix },
    );
  }
  const why = decider ? `${decider.file} sets use-sigstore-attachments: ${String(decider.entry['use-sigstore-attachments'])} for ${decider.scope}` : `no file in ${f.dir} enables use-sigstore-attachments for ${repository}`;
  return check('registries-d', TITLE, 'problem', `${why}: cosign signatures are never fetched and the signed image is rejected`, { fix });
}
