// `crio-sigpoc policy lint [POLICY]` and `crio-sigpoc policy explain IMAGE`: read-only, so no run lock.
import type { GlobalOptions } from '../core/context.js';
import { EXIT } from '../core/errors.js';
import { explainImage } from '../policy/explain.js';
import { findingText, hasErrors } from '../policy/finding.js';
import { lintPolicy } from '../policy/lint.js';
import { runCommand } from './run-command.js';

export interface PolicyOptions extends GlobalOptions {
  /** lint: the file to lint; explain: the policy to explain with. Default: the one CRI-O reads. */
  policy?: string;
  registriesD?: string;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Exit 2 when any finding is an error, 0 otherwise. */
export function lint(opts: PolicyOptions): Promise<number> {
  return runCommand(
    'policy lint',
    opts,
    async (ctx) => {
      const r = await lintPolicy(ctx, { policy: opts.policy, registriesD: opts.registriesD });
      const errors = r.findings.filter((f) => f.severity === 'error').length;
      if (!opts.json) {
        const summary = r.findings.length ? `${plural(errors, 'error')}, ${plural(r.findings.length - errors, 'warning')}` : 'no findings';
        const notes = r.notes.map((n) => `note: ${n}\n`);
        process.stdout.write([`policy        ${r.policy}\nregistries.d  ${r.registriesD}\n\n`, ...r.findings.map(findingText), ...notes, `${summary}\n`].join(''));
      }
      return { exitCode: hasErrors(r.findings) ? EXIT.usage : EXIT.ok, json: r };
    },
    { lock: false },
  );
}

export function explain(image: string, opts: PolicyOptions): Promise<number> {
  return runCommand(
    'policy explain',
    opts,
    async (ctx) => {
      const ex = await explainImage(ctx, image, { policy: opts.policy, registriesD: opts.registriesD });
      if (!opts.json) {
        const rows: [string, string][] = [
          ['image', ex.image === ex.reference ? ex.image : `${ex.image} → ${ex.reference}`],
          ['policy', ex.policy],
          ['lookup', ex.lookup.join(', ')],
          ['decided by', ex.decidedBy.jsonPath],
          ...ex.requirements.map((r, i): [string, string] => [i === 0 ? (ex.requirements.length > 1 ? 'requires all' : 'requires') : '', `${r.type}: ${r.text}`]),
          ['signature', ex.signature.text],
          ['outcome', ex.outcome],
        ];
        const lines = rows.map(([k, v]) => `${k.padEnd(12)}${v}`);
        process.stdout.write([...lines, ...ex.notes.map((n) => `note: ${n}`)].join('\n') + '\n');
      }
      return { exitCode: EXIT.ok, json: ex };
    },
    { lock: false },
  );
}

export default { lint, explain };
