// Which policy file CRI-O reads, and which of its config files decided that.
import type { CrioConfig } from '../crio/config.js';
import { SYSTEM_PATHS } from '../core/settings.js';
import type { Check } from './check.js';
import { check } from './check.js';

const TITLE = 'policy file CRI-O reads';

/** What else decides whether the policy CRI-O reads is the tool's. */
export interface PolicySourceFacts {
  /** Does the file CRI-O reads exist? */
  effectiveExists: boolean;
  /** policy.json files the tool installed (its ledger) that CRI-O does not read. */
  installedElsewhere: string[];
}

export function policySourceCheck(cfg: CrioConfig, setupHint: string, facts: PolicySourceFacts = { effectiveExists: true, installedElsewhere: [] }): Check {
  const read = cfg.files.length ? `config: ${cfg.files.join(', ')}` : 'no config file: built-in defaults';
  if (cfg.errors.length) {
    const e = cfg.errors[0];
    return check('crio-policy-path', TITLE, 'problem', `CRI-O cannot parse ${e.file}: ${e.message} (it will not start with it)`, { fix: `fix ${e.file}, or move it out of ${SYSTEM_PATHS.crioDropinDir}` });
  }
  if (facts.installedElsewhere.length) {
    return check(
      'crio-policy-path',
      TITLE,
      'problem',
      `CRI-O reads ${cfg.effectivePolicyPath} (decided by ${cfg.signaturePolicy.source}), but crio-sigpoc installed its policy at ${facts.installedElsewhere.join(', ')}: that policy is ignored${facts.effectiveExists ? '' : `, and ${cfg.effectivePolicyPath} does not exist`}`,
      { fix: `remove the setting in ${cfg.signaturePolicy.source} if it is not meant, then run: crio-sigpoc install-policy` },
    );
  }
  if (!facts.effectiveExists) {
    return check('crio-policy-path', TITLE, 'problem', `CRI-O reads ${cfg.effectivePolicyPath} (decided by ${cfg.signaturePolicy.source}), which does not exist: every pull fails`, {
      fix: 'crio-sigpoc install-policy',
    });
  }
  if (cfg.signaturePolicy.value) {
    return check('crio-policy-path', TITLE, 'ok', `${cfg.effectivePolicyPath} (signature_policy set in ${cfg.signaturePolicy.source}; ${read})`);
  }
  // Unset: pulls use the library default, and images already in storage are not checked again
  // when a container is created from them (server/container_create.go).
  return check(
    'crio-policy-path',
    TITLE,
    'warning',
    `${cfg.effectivePolicyPath} (signature_policy is not set, so CRI-O uses the library default and does not re-check images already in storage; ${read})`,
    { fix: `${setupHint}  (writes ${SYSTEM_PATHS.crioDropin} with signature_policy set)` },
  );
}
