// `policy explain IMAGE`: before any pull, which scope of the installed policy decides for an
// image, what it requires, and where CRI-O will look for the signature, following the library's
// own lookup order (scope.ts) and registries.d reading (registries-d.ts).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Context } from '../core/context.js';
import { readCrioConfig } from '../crio/config.js';
import { EnvironmentError, UsageError } from '../core/errors.js';
import type { PolicyDocument, PolicyRequirement } from './file.js';
import { jsonPath } from './finding.js';
import { byteLineColumn } from './go-json.js';
import type { Canonical } from './library-policy.js';
import { decodePolicy } from './library-policy.js';
import type { RegistriesD } from './registries-d.js';
import { attachmentsFor, DEFAULT_LOOKASIDE, lookasideFor, lookasideLocation, readRegistriesD } from './registries-d.js';
import type { NormalisedImage } from './scope.js';
import { decidingScope, lookupChain, normaliseImage, refIdentity } from './scope.js';
import { readPolicyBytes } from './read-policy.js';

type Identity = NonNullable<Extract<PolicyRequirement, { type: 'sigstoreSigned' }>['signedIdentity']>;

export interface Explanation {
  image: string;
  /** The reference the policy is looked up with, e.g. docker.io/library/alpine:latest. */
  reference: string;
  policy: string;
  /** Every key tried, in the library's order, ending with "" and default. */
  lookup: string[];
  decidedBy: { jsonPath: string; scope?: string };
  requirements: { type: string; text: string }[];
  /** What the library holds: the requirements in its own JSON form, and its lookaside URL for the repository. */
  library: { requirements: Canonical[]; lookaside: string };
  signature: {
    sigstoreAttachment: { enabled: boolean; location?: string; configuredBy?: string };
    lookaside: { location: string; configuredBy?: string };
    text: string;
  };
  outcome: string;
  notes: string[];
}

export async function explainImage(ctx: Context, image: string, opts: { policy?: string; registriesD?: string } = {}): Promise<Explanation> {
  const ref = normaliseImage(image);
  const crio = await readCrioConfig(ctx.opts.root);
  const file = opts.policy ? path.resolve(opts.policy) : crio.effectivePolicyPath;
  const bytes = await readPolicyBytes(opts.policy ? file : ctx.sys(file)).catch((e: Error) => {
    throw new EnvironmentError(`cannot read the policy ${file}: ${e.message}; CRI-O refuses every pull`, 'crio-sigpoc install-policy');
  });
  const decided = decodePolicy(bytes);
  const lint = `crio-sigpoc policy lint ${opts.policy ?? ''}`.trim();
  if (!decided.ok) {
    const { line, column } = byteLineColumn(bytes, decided.refusal.offset);
    throw new UsageError(`the pull of ${image} would fail: ${file} is not a policy the library can load: it refuses it at ${file}:${line}:${column}, ${jsonPath(decided.refusal.segs)} (${decided.refusal.message}), so CRI-O fails every pull`, lint);
  }
  const rd = await readRegistriesD(ctx, { dir: opts.registriesD ? path.resolve(opts.registriesD) : undefined });
  if (rd.refusal) throw new UsageError(`the pull of ${image} would fail: the library refuses ${rd.dir} (${rd.refusal.message.replace(/\s+/g, ' ')}), so CRI-O fails every docker pull`, lint);
  const policy = { default: decided.policy.default, transports: decided.policy.transports } as unknown as PolicyDocument;
  const ex = explainWith(policy, file, rd, image, ref);
  ex.notes.push(...(await namespaceNotes(ctx, crio.signaturePolicyDir.value)));
  return ex;
}

export function explainWith(policy: PolicyDocument, file: string, rd: RegistriesD, image: string, ref: NormalisedImage): Explanation {
  const docker = policy.transports?.docker ?? {};
  const scope = decidingScope(docker, ref);
  const reqs = scope === undefined ? policy.default : docker[scope];
  const segs = scope === undefined ? ['default'] : ['transports', 'docker', scope];
  const chain = lookupChain(ref);
  const notes = [...rd.notes];
  if (ref.shortName) notes.push(`${image} is a short name: CRI-O resolves it through registries.conf (aliases, unqualified-search-registries) and checks each candidate on its own; explained here as ${ref.name}`);
  if (ref.droppedTag) notes.push(`CRI-O drops the tag :${ref.droppedTag} when a digest is given, and pulls by digest`);
  return {
    image,
    reference: refIdentity(ref),
    policy: file,
    lookup: [...chain, '""', 'default'],
    decidedBy: { jsonPath: jsonPath(segs), scope },
    requirements: reqs.map((r) => ({ type: r.type, text: requirementText(r, ref) })),
    library: { requirements: reqs as unknown as Canonical[], lookaside: lookasideLocationOf(rd, chain, ref) },
    signature: signatureLookup(reqs, ref, rd, chain),
    outcome: outcome(reqs, ref, rd, chain),
    notes,
  };
}

function requirementText(r: PolicyRequirement, ref: NormalisedImage): string {
  switch (r.type) {
    case 'reject':
      return 'rejected, whatever signatures it has';
    case 'insecureAcceptAnything':
      return 'accepted without checking any signature';
    case 'signedBaseLayer':
      return 'signedBaseLayer is not implemented by the library: always rejected';
    case 'signedBy':
      if (r.keyType !== 'GPGKeys') return `keyType ${r.keyType} is accepted by the library's parser but not implemented when it verifies: always rejected (Unimplemented "keyType" value "${r.keyType}")`;
      return `a GPG simple-signing signature by a key in ${r.keyPath ?? r.keyPaths?.join(' or ') ?? 'the inline keyData'}; ${identityText(r.signedIdentity, ref)}`;
    case 'sigstoreSigned': {
      const key = r.keyPath
        ? `the public key ${r.keyPath}`
        : r.keyPaths
          ? `any one of the public keys ${r.keyPaths.join(', ')}`
          : r.keyData
            ? 'the inline public key (keyData)'
            : r.keyDatas
              ? `any one of ${r.keyDatas.length} inline public keys (keyDatas)`
              : r.fulcio
                ? 'a Fulcio-issued certificate (keyless signing)'
                : 'a certificate from the configured PKI';
      const rekorKey = r.rekorPublicKeyPath ?? r.rekorPublicKeyPaths?.join(' or ') ?? (r.rekorPublicKeyData || r.rekorPublicKeyDatas ? 'an inline Rekor key' : undefined);
      const rekor = rekorKey ? `, with a Rekor inclusion proof checked against ${rekorKey}` : '';
      return `a cosign (sigstore) signature verified with ${key}${rekor}; ${identityText(r.signedIdentity, ref)}`;
    }
  }
}

function identityText(id: Identity | undefined, ref: NormalisedImage): string {
  switch (id?.type) {
    case 'matchRepository':
      return `the signature must name the repository ${ref.name} (any tag or digest)`;
    case 'exactRepository':
      return `the signature must name the repository ${id.dockerRepository}`;
    case 'exactReference':
      return `the signature must name exactly ${id.dockerReference} (cosign names only a repository, so a cosign signature never does)`;
    case 'matchExact':
      return `the signature must name exactly ${refIdentity(ref)} (cosign names only a repository, so a cosign signature never does)`;
    case 'remapIdentity':
      return `"${id.prefix}" is read as "${id.signedPrefix}", then the signature must name the same tag (or repository, when pulled by digest)`;
    default:
      // matchRepoDigestOrExact, also when signedIdentity is left out.
      return ref.digest
        ? `the signature must name the repository ${ref.name} (pulled by digest)`
        : `the signature must name ${refIdentity(ref)} with its tag: cosign names only the repository, so a cosign signature is rejected when pulled by tag`;
  }
}

function signatureLookup(reqs: PolicyRequirement[], ref: NormalisedImage, rd: RegistriesD, chain: string[]): Explanation['signature'] {
  const hex = ref.digest?.replace(/^[^:]*:/, '') ?? '<digest>';
  const attach = attachmentsFor(rd, chain);
  const look = lookasideFor(rd, chain);
  const by = (e?: { file: string; key: string }): string | undefined => (e ? `${e.file} (${e.key})` : undefined);
  const sigstoreAttachment = { enabled: attach.enabled, location: attach.enabled ? `${ref.name}:${ref.digest?.replace(/:.*$/, '') ?? 'sha256'}-${hex}.sig` : undefined, configuredBy: by(attach.entry) };
  const located = lookasideLocation(look.url, ref.path);
  if ('error' in located) throw new UsageError(`the pull of ${refIdentity(ref)} would fail: ${located.error} (from ${by(look.entry)})`, `correct the URL in ${look.entry?.file ?? rd.dir}`);
  const algorithm = ref.digest?.replace(/:.*$/, '') ?? 'sha256';
  const lookaside = { location: `${located.base}@${algorithm}=${hex}/signature-1`, configuredBy: by(look.entry) };
  const digestNote = ref.digest ? '' : ' (<digest>: the manifest CRI-O pulls for this node\'s platform, not the index of a multi-platform image)';
  let text: string;
  if (reqs.some((r) => r.type === 'sigstoreSigned')) {
    text = attach.enabled
      ? `cosign's signature manifest ${sigstoreAttachment.location} in the same registry${digestNote}; use-sigstore-attachments: true from ${sigstoreAttachment.configuredBy}`
      : look.entry
        ? `no cosign signature can be found: use-sigstore-attachments is not enabled for ${ref.name} in ${rd.dir}; only the lookaside ${lookaside.location} is read (from ${lookaside.configuredBy}), where cosign never writes`
        : `no signature can be found: use-sigstore-attachments is not enabled for ${ref.name} in ${rd.dir}`;
  } else if (reqs.some((r) => r.type === 'signedBy')) {
    text = `GPG signatures in the lookaside ${lookaside.location}${digestNote}${look.entry ? ` (from ${lookaside.configuredBy})` : ` (built-in default ${DEFAULT_LOOKASIDE})`}`;
  } else {
    text = 'no signature is read for this decision';
  }
  return { sigstoreAttachment, lookaside, text };
}

function outcome(reqs: PolicyRequirement[], ref: NormalisedImage, rd: RegistriesD, chain: string[]): string {
  if (reqs.some((r) => r.type === 'reject' || r.type === 'signedBaseLayer' || (r.type === 'signedBy' && r.keyType !== 'GPGKeys'))) return 'rejected';
  if (reqs.every((r) => r.type === 'insecureAcceptAnything')) return 'accepted without verification';
  const sigstore = reqs.filter((r): r is Extract<PolicyRequirement, { type: 'sigstoreSigned' }> => r.type === 'sigstoreSigned');
  if (sigstore.length && !attachmentsFor(rd, chain).enabled) {
    return lookasideFor(rd, chain).entry ? 'rejected when signed with cosign: only the lookaside is read, and cosign never writes there' : 'rejected: no signature can be found';
  }
  if (sigstore.some((r) => ['matchExact', 'exactReference'].includes(r.signedIdentity?.type ?? ''))) return 'rejected: the identity rule never matches a cosign signature';
  if (!ref.digest && sigstore.some((r) => !r.signedIdentity || ['matchRepoDigestOrExact', 'remapIdentity'].includes(r.signedIdentity.type))) return 'rejected when pulled by tag: the identity rule needs the tag in the signature, and cosign names only the repository';
  return `accepted only with ${reqs.length > 1 ? 'every requirement above satisfied' : 'a valid signature'}`;
}

/** Pods in a namespace with its own policy file are judged by that file instead. */
async function namespaceNotes(ctx: Context, dir: string): Promise<string[]> {
  const names = (await fs.readdir(ctx.sys(dir)).catch(() => [] as string[])).filter((n) => n.endsWith('.json'));
  return names.length ? [`namespace policies exist in ${dir} (${names.join(', ')}): pods in those namespaces are judged by them, not by this policy`] : [];
}

/** The library's lookaside base URL for the repository (lookasideStorageBaseURL). */
function lookasideLocationOf(rd: RegistriesD, chain: string[], ref: NormalisedImage): string {
  const located = lookasideLocation(lookasideFor(rd, chain).url, ref.path);
  return 'base' in located ? located.base : '';
}
