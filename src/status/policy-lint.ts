// The linter's findings on the policy CRI-O reads, as one status line: errors are problems,
// warnings are warnings, each with its fix.
import type { LintResult } from '../policy/lint.js';
import { findingText } from '../policy/finding.js';
import type { Check } from './check.js';
import { check } from './check.js';

export function policyLintCheck(r: LintResult): Check {
  const errors = r.findings.filter((f) => f.severity === 'error');
  const warnings = r.findings.filter((f) => f.severity === 'warning');
  const title = 'policy lint (containers-policy.json(5), registries.d)';
  if (!r.findings.length) return check('policy-lint', title, 'ok', `${r.policy}: no findings`);
  const level = errors.length ? 'problem' : 'warning';
  const first = errors[0] ?? warnings[0];
  return check('policy-lint', title, level, `${errors.length} error(s), ${warnings.length} warning(s) in ${r.policy} and ${r.registriesD}`, {
    fix: first.fix,
    evidence: r.findings.map(findingText).join('').trimEnd(),
  });
}
