// `crio-sigpoc policy lint [POLICY]` and `crio-sigpoc policy explain IMAGE`: read-only, so no run lock.
import type { GlobalOptions } from '../core/context.js';
import path from 'node:path';
import { EXIT, UsageError } from '../core/errors.js';
import type { TrustModel } from '../policy/edit.js';
import { checkEdited, policyDiff, policyText, readEditable, removeScope, requirementsFor, setScope, writePolicy } from '../policy/edit.js';
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

export interface EditOptions extends GlobalOptions {
  policy?: string;
  key?: string[];
  allOf?: boolean;
  pkiCa?: string;
  pkiIntermediate?: string;
  subjectEmail?: string;
  subjectHostname?: string;
  gpgKey?: string[];
  accept?: boolean;
  reject?: boolean;
}

/** Exactly one trust model per scope, named by its options. */
function modelOf(o: EditOptions): TrustModel {
  const given = [o.key?.length && 'key', o.pkiCa && 'pki-ca', o.gpgKey?.length && 'gpg-key', o.accept && 'accept', o.reject && 'reject'].filter(Boolean);
  if (given.length !== 1) throw new UsageError(given.length ? `one trust model per scope: --${given.join(', --')} were given together` : 'name the trust model: --key FILE…, --pki-ca FILE, --gpg-key FILE…, --accept or --reject', 'crio-sigpoc policy add SCOPE --key cosign.pub --policy policy.json');
  if (o.key?.length) return { kind: 'keys', keys: o.key, allOf: Boolean(o.allOf) };
  if (o.pkiCa) return { kind: 'pki', caRoots: o.pkiCa, caIntermediates: o.pkiIntermediate, subjectEmail: o.subjectEmail, subjectHostname: o.subjectHostname };
  if (o.gpgKey?.length) return { kind: 'gpg', keys: o.gpgKey };
  return o.accept ? { kind: 'accept' } : { kind: 'reject' };
}

/** add and remove share the frame: read, change, check, show the diff, write unless --dry-run. */
function edit(name: string, scope: string, opts: EditOptions, change: (p: Parameters<typeof removeScope>[0]) => { policy: Parameters<typeof removeScope>[0]; what: string }): Promise<number> {
  return runCommand(
    name,
    opts,
    async (ctx) => {
      const file = path.resolve(opts.policy ?? 'policy.json');
      const { before, policy, exists } = await readEditable(ctx, file);
      const { policy: next, what } = change(policy);
      const after = policyText(next);
      const warnings = await checkEdited(ctx, file, after);
      const diff = await policyDiff(file, before, after);
      if (!opts.dryRun && after !== before) await writePolicy(file, after);
      if (!opts.json) process.stdout.write(`${diff}${warnings.join('')}${opts.dryRun ? 'dry run: nothing written' : after === before ? 'unchanged' : `${exists ? 'written' : 'created'}: ${file}`} (${what} "${scope}")\nnext: crio-sigpoc install-policy --policy ${file}\n`);
      return { exitCode: EXIT.ok, json: { file, scope, changed: after !== before, dryRun: opts.dryRun, diff, policy: next } };
    },
    { lock: false },
  );
}

export const add = (scope: string, opts: EditOptions): Promise<number> =>
  edit('policy add', scope, opts, (p) => {
    const { policy, replaced } = setScope(p, scope, requirementsFor(modelOf(opts)));
    return { policy, what: replaced ? 'replaced' : 'added' };
  });

export const remove = (scope: string, opts: EditOptions): Promise<number> => edit('policy remove', scope, opts, (p) => ({ policy: removeScope(p, scope), what: 'removed' }));

export default { lint, explain, add, remove };
