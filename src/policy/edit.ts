// `policy add` and `policy remove`: a policy.json built and edited one scope at a time, for every
// trust model CRI-O supports, so that nobody has to write the JSON by hand. The result must load
// in the library and pass lint before it is written (atomically); the diff says what changed.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Context } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import { readCrioConfig } from '../crio/config.js';
import { jsonPath } from './finding.js';
import { byteLineColumn } from './go-json.js';
import { decodePolicy } from './library-policy.js';
import { readPolicyBytes } from './read-policy.js';
import { policyText } from './render.js';

/** The trust model of one scope, as the user names it on the command line. */
export type TrustModel =
  | { kind: 'keys'; keys: string[]; allOf: boolean }
  | { kind: 'pki'; caRoots: string; caIntermediates?: string; subjectEmail?: string; subjectHostname?: string }
  | { kind: 'gpg'; keys: string[] }
  | { kind: 'accept' }
  | { kind: 'reject' };

type Requirement = Record<string, unknown>;

/** cosign signs the repository only: the identity must not compare tags or digests. */
const MATCH_REPOSITORY = { type: 'matchRepository' };
const abs = (p: string): string => path.resolve(p);

export function requirementsFor(m: TrustModel): Requirement[] {
  switch (m.kind) {
    case 'keys':
      if (m.allOf || m.keys.length === 1) return m.keys.map((k) => ({ type: 'sigstoreSigned', keyPath: abs(k), signedIdentity: MATCH_REPOSITORY }));
      return [{ type: 'sigstoreSigned', keyPaths: m.keys.map(abs), signedIdentity: MATCH_REPOSITORY }];
    case 'pki': {
      if (!m.subjectEmail && !m.subjectHostname) throw new UsageError('a pki requirement needs --subject-email or --subject-hostname (the library refuses one with neither)', 'crio-sigpoc policy add SCOPE --pki-ca root.pem --subject-email signer@example.com');
      const pki: Requirement = { caRootsPath: abs(m.caRoots) };
      if (m.caIntermediates) pki.caIntermediatesPath = abs(m.caIntermediates);
      if (m.subjectEmail) pki.subjectEmail = m.subjectEmail;
      if (m.subjectHostname) pki.subjectHostname = m.subjectHostname;
      return [{ type: 'sigstoreSigned', pki, signedIdentity: MATCH_REPOSITORY }];
    }
    case 'gpg':
      // Simple signing names the image reference it signed; the default identity (matchRepoDigestOrExact) checks it.
      return [m.keys.length === 1 ? { type: 'signedBy', keyType: 'GPGKeys', keyPath: abs(m.keys[0]) } : { type: 'signedBy', keyType: 'GPGKeys', keyPaths: m.keys.map(abs) }];
    case 'accept':
      return [{ type: 'insecureAcceptAnything' }];
    case 'reject':
      return [{ type: 'reject' }];
  }
}

interface PolicyJson {
  default: Requirement[];
  transports?: Record<string, Record<string, Requirement[]>>;
  [k: string]: unknown;
}

/** `default` is the policy's default; anything else a transports.docker scope ("" included). */
export function setScope(p: PolicyJson, scope: string, reqs: Requirement[]): { policy: PolicyJson; replaced: boolean } {
  if (scope === 'default') return { policy: { ...p, default: reqs }, replaced: true };
  const docker = { ...(p.transports?.docker ?? {}) };
  const replaced = scope in docker;
  docker[scope] = reqs;
  return { policy: { ...p, transports: { ...(p.transports ?? {}), docker } }, replaced };
}

export function removeScope(p: PolicyJson, scope: string): PolicyJson {
  if (scope === 'default') throw new UsageError('the default cannot be removed: every policy has one', 'crio-sigpoc policy add default --reject');
  const docker = { ...(p.transports?.docker ?? {}) };
  if (!(scope in docker)) throw new UsageError(`the policy has no scope "${scope}" under transports.docker`, 'crio-sigpoc policy explain IMAGE --policy FILE shows which scope decides');
  delete docker[scope];
  return { ...p, transports: { ...(p.transports ?? {}), docker } };
}

/**
 * A new policy starts from what every node needs: reject by default, and the pause image CRI-O
 * uses let in (a policy that rejects it stops every pod).
 */
async function startingPolicy(ctx: Context): Promise<PolicyJson> {
  // The pause image's repository only, never its whole registry.
  const pause = (await readCrioConfig(ctx.opts.root)).pauseImage.value;
  const repository = pause.replace(/@.*$/, '').replace(/:[^/:]+$/, '');
  return { default: [{ type: 'reject' }], transports: { docker: { [repository]: [{ type: 'insecureAcceptAnything' }] } } };
}

/** The policy file's current text and content, or the starting policy when it does not exist yet. */
export async function readEditable(ctx: Context, file: string): Promise<{ before: string; policy: PolicyJson; exists: boolean }> {
  const bytes = await readPolicyBytes(file).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw new UsageError(`cannot read ${file}: ${e.message}`, 'pass a policy.json you can read to --policy');
  });
  if (!bytes) return { before: '', policy: await startingPolicy(ctx), exists: false };
  const d = decodePolicy(bytes);
  if (!d.ok) {
    const { line, column } = byteLineColumn(bytes, d.refusal.offset);
    throw new UsageError(`${file}:${line}:${column}: the library refuses this policy at ${jsonPath(d.refusal.segs)}: ${d.refusal.message}; it is not edited`, `crio-sigpoc policy lint ${file}`);
  }
  return { before: bytes.toString('utf8'), policy: JSON.parse(bytes.toString('utf8')) as PolicyJson, exists: true };
}

const NODE_DEPENDENT = new Set(['no-sigstore-attachments', 'key-file-missing', 'key-file-not-regular', 'key-file-not-public-key', 'library-too-old', 'pause-image-rejected']);

/** The new text is checked as the library and lint check it; errors leave the file as it was. */
export async function checkEdited(ctx: Context, file: string, text: string): Promise<string[]> {
  const d = decodePolicy(Buffer.from(text));
  if (!d.ok) throw new UsageError(`the edited policy would not load: the library refuses it at ${jsonPath(d.refusal.segs)}: ${d.refusal.message}; ${file} is unchanged`, 'check the files the options name');
  const { lintPolicyText } = await import('./lint.js');
  const { findingText } = await import('./finding.js');
  const r = await lintPolicyText(text, file, ctx);
  // What depends on the node the file is installed on later (its registries.d, its key files) is
  // said, not refused: install-policy checks it again there.
  const own = r.findings.filter((f) => f.file === file).map((f) => (NODE_DEPENDENT.has(f.code) ? { ...f, severity: 'warning' as const, message: `on this node: ${f.message}` } : f));
  const errors = own.filter((f) => f.severity === 'error');
  if (errors.length) throw new UsageError(`the edited policy has errors; ${file} is unchanged:\n${errors.map(findingText).join('')}`, 'fix the options (the findings say how) and run again');
  return own.map(findingText);
}

export async function writePolicy(file: string, text: string): Promise<void> {
  const { default: writeFileAtomic } = await import('write-file-atomic');
  const mode = await fs.stat(file).then((s) => s.mode & 0o777, () => 0o644);
  await writeFileAtomic(file, text, { mode });
}

export async function policyDiff(file: string, before: string, after: string): Promise<string> {
  const { createTwoFilesPatch } = await import('diff');
  return createTwoFilesPatch(file, file, before, after, before ? 'before' : '(new file)', 'after', { context: 3 });
}

export { policyText };
