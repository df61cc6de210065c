// The cosign key pair in the state directory, and the key files the installed policy trusts.
import type { Check } from './check.js';
import { check } from './check.js';

export interface KeyPairFacts {
  publicKey: string;
  privateKey: string;
  publicExists: boolean;
  /** File mode bits of the private key, when it exists. */
  privateMode?: number;
  /** The old pair of a rotation under way (gen-keys --rotate), still trusted. */
  previousKeysDir?: string;
  /** A rotation was killed between its renames: the next gen-keys finishes it. */
  rotationJournal?: string;
}

export function keyPairCheck(f: KeyPairFacts): Check {
  const title = 'cosign key pair';
  if (f.rotationJournal) return check('keys', title, 'problem', `a key rotation was interrupted (${f.rotationJournal}): the keys are half swapped`, { fix: 'crio-sigpoc gen-keys  (finishes the rotation)' });
  if (!f.publicExists && f.privateMode === undefined) return check('keys', title, 'warning', `no key pair yet (${f.privateKey})`, { fix: 'crio-sigpoc gen-keys  (test creates it too)' });
  if (f.privateMode === undefined) return check('keys', title, 'problem', `${f.publicKey} exists but its private key ${f.privateKey} does not: nothing can be signed`, { fix: 'crio-sigpoc gen-keys --force' });
  if (!f.publicExists) return check('keys', title, 'problem', `${f.privateKey} exists but ${f.publicKey} does not`, { fix: 'crio-sigpoc gen-keys --force' });
  const mode = (f.privateMode & 0o777).toString(8).padStart(4, '0');
  if (f.privateMode & 0o077) return check('keys', title, 'problem', `${f.privateKey} is mode ${mode}: other users can read the private key`, { fix: `chmod 600 ${f.privateKey}` });
  if (f.previousKeysDir) {
    return check('keys', title, 'warning', `a rotation is under way: ${f.privateKey} signs, the old key in ${f.previousKeysDir} is still trusted`, { fix: "crio-sigpoc gen-keys --retire-old  (once your images carry the new key's signature)" });
  }
  return check('keys', title, 'ok', `${f.privateKey} (mode ${mode}) and ${f.publicKey}`);
}

export interface PolicyKeyFacts {
  /** Each keyPath of the policy's sigstoreSigned requirements, with the file's text when it exists. */
  keys: { path: string; text?: string }[];
  /** The tool's own public key, when there is one. */
  statePublicKey?: { path: string; text: string };
}

/** Undefined when the policy names no key file (nothing to say). */
export function policyKeysCheck(f: PolicyKeyFacts): Check | undefined {
  if (!f.keys.length) return undefined;
  const title = 'keys the policy trusts';
  const missing = f.keys.filter((k) => k.text === undefined);
  if (missing.length) {
    return check('policy-keys', title, 'problem', `the policy names ${missing.map((k) => k.path).join(', ')}, which does not exist: every signed image is rejected`, { fix: 'crio-sigpoc install-policy' });
  }
  const ours = f.statePublicKey;
  if (ours && !f.keys.some((k) => k.text!.trim() === ours.text.trim())) {
    return check('policy-keys', title, 'problem', `${f.keys.map((k) => k.path).join(', ')} is not the key sign-image signs with (${ours.path}): the signed image will be rejected`, { fix: 'crio-sigpoc install-policy' });
  }
  return check('policy-keys', title, 'ok', ours ? `${f.keys.map((k) => k.path).join(', ')} = ${ours.path}` : f.keys.map((k) => k.path).join(', '));
}
