// Will the containers library look for cosign signatures of the signed test image? Only when
// registries.d enables use-sigstore-attachments for it; `sigstore:` is the old name of `lookaside`
// (GPG signatures on a web server) and is the classic mistake of the original proof. The reading of
// registries.d and the lookup order are the linter's (src/policy), so status and lint agree.
import type { RegistriesD } from '../policy/registries-d.js';
import { attachmentsFor, lookasideFor } from '../policy/registries-d.js';
import { SYSTEM_PATHS } from '../core/settings.js';
import type { Check } from './check.js';
import { check } from './check.js';

const TITLE = 'registries.d (where signatures are looked up)';

/** chain: the registries.d keys the library tries for the image, most specific first. */
export function registriesDCheck(rd: RegistriesD, image: string, chain: string[]): Check {
  const fix = `crio-sigpoc install-policy  (writes ${SYSTEM_PATHS.registriesDFile} with use-sigstore-attachments: true)`;
  const notes = rd.notes.length ? { evidence: rd.notes.join('\n') } : {};
  // The library refuses the whole directory for these: every pull fails, signed or not.
  const fatal = rd.findings.find((f) => f.severity === 'error' && f.code !== 'sigstore-key-is-lookaside');
  if (fatal) return check('registries-d', TITLE, 'problem', `${fatal.file}${fatal.line ? `:${fatal.line}` : ''}: ${fatal.message}`, { fix: fatal.fix, ...notes });
  const where = rd.shadowed ? `${rd.dir} (it hides ${rd.shadowed})` : rd.dir;

  const attachments = attachmentsFor(rd, chain);
  if (attachments.enabled) return check('registries-d', TITLE, 'ok', `use-sigstore-attachments: true for ${attachments.entry!.key} in ${attachments.entry!.file}`, notes);
  const lookaside = lookasideFor(rd, chain);
  if (lookaside.entry?.sigstore !== undefined) {
    return check(
      'registries-d',
      TITLE,
      'problem',
      `${lookaside.entry.file} sets \`sigstore: ${lookaside.entry.sigstore}\` for ${lookaside.entry.key}: that is the old name of \`lookaside\` (GPG signatures), not Sigstore; cosign signatures of ${image} are never fetched and it is rejected`,
      { fix, ...notes },
    );
  }
  const why = attachments.entry ? `${attachments.entry.file} sets use-sigstore-attachments: false for ${attachments.entry.key}` : `nothing in ${where} enables use-sigstore-attachments for ${image}`;
  return check('registries-d', TITLE, 'problem', `${why}: cosign signatures are never fetched and the signed image is rejected`, { fix, ...notes });
}
