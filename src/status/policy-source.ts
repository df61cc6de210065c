// Which policy file CRI-O reads, and which of its config files decided that.
import type { CrioConfig } from '../crio-config.js';
import { SYSTEM_PATHS } from '../settings.js';
import type { Check } from './check.js';
import { check } from './check.js';

const TITLE = 'policy file CRI-O reads';

export function policySourceCheck(cfg: CrioConfig, setupHint: string): Check {
  const read = cfg.files.length ? `config: ${cfg.files.join(', ')}` : 'no config file: built-in defaults';
  if (cfg.errors.length) {
    const e = cfg.errors[0];
    return check('crio-policy-path', TITLE, 'problem', `CRI-O cannot parse ${e.file}: ${e.message} (it will not start with it)`, { fix: `fix ${e.file}, or move it out of ${SYSTEM_PATHS.crioDropinDir}` });
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
