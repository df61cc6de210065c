// policy.json (containers-policy.json(5)) as the tool installs it.
import { registryAddress, SYSTEM_PATHS } from '../core/settings.js';

export type Requirement =
  | { type: 'reject' }
  | { type: 'insecureAcceptAnything' }
  | { type: 'sigstoreSigned'; keyPath: string; signedIdentity: { type: 'matchRepository' } }
  | { type: 'sigstoreSigned'; keyPaths: string[]; signedIdentity: { type: 'matchRepository' } };

export interface Policy {
  default: Requirement[];
  transports: { docker: Record<string, Requirement[]> };
}

export interface PolicySettings {
  /** The scope whose images must carry a cosign signature by our key. */
  signedScope: string;
  keyPath: string;
  /** During a key rotation, the old key, trusted beside the new one (any of them, keyPaths). */
  previousKeyPath?: string;
  /** Scopes let in without verification: the pause image's registry, at least. */
  allowedScopes: string[];
}

export const defaultPolicySettings = (): PolicySettings => ({
  signedScope: registryAddress,
  keyPath: SYSTEM_PATHS.publicKey,
  // registry.k8s.io for the pause image of CRI-O's packages.
  allowedScopes: ['registry.k8s.io'],
});

/** The pause image's scope: its repository when it lives in the signed registry, its host otherwise. */
export function pauseScope(pauseImage: string, signedScope: string): string {
  const repo = pauseImage.replace(/@.*$/, '').replace(/:[^/:]+$/, '');
  const host = repo.split('/')[0];
  return host === signedScope ? repo : host;
}

export function renderPolicy(s: PolicySettings): Policy {
  const docker: Record<string, Requirement[]> = {
    // matchRepository: cosign's payload names the repository only, so the default identity
    // rule would reject every pull by tag.
    [s.signedScope]: [
      s.previousKeyPath
        ? { type: 'sigstoreSigned', keyPaths: [s.keyPath, s.previousKeyPath], signedIdentity: { type: 'matchRepository' } }
        : { type: 'sigstoreSigned', keyPath: s.keyPath, signedIdentity: { type: 'matchRepository' } },
    ],
  };
  for (const scope of s.allowedScopes) docker[scope] = [{ type: 'insecureAcceptAnything' }];
  return { default: [{ type: 'reject' }], transports: { docker } };
}

export const policyText = (p: unknown): string => JSON.stringify(p, null, 2) + '\n';
