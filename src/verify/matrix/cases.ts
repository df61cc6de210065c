// The verdict matrix as data: every way an image should be let in or kept out, each with how it
// is prepared, what CRI-O must decide, and how its reason is recognised.
import type { Context } from '../../core/context.js';
import type { Step } from '../../core/step.js';
import { IMAGES, imageRef } from '../../core/settings.js';
import type { Expectation } from '../verdict.js';
import { ALIAS_REGISTRY, ALL_OF_NAMESPACE, ANY_KEY_NAMESPACE, CLOSED_NAMESPACE, matrixRepo, OPEN_NAMESPACE, ORIGINAL_STYLE_SCOPE, PKI_NAMESPACE, PKI_SUBJECT_EMAIL, GPG_NAMESPACE, GPG_SCOPE } from './lab-config.js';
import type { NodeAddition } from './node.js';
import type { Signer } from '../../registry/signing.js';
import type { PkiIdentity } from './pki.js';
import type { GpgIdentity } from './gpg.js';
// Type only: the preparations are handed in by the run (run.ts), so that listing the cases
// (test --list) loads no registry, signing or CRI-O code.
import type * as Preparers from './prepare.js';

export const NO_SIGNATURE = /A signature was required, but no signature exists/;

export type Procedure = 'pull' | 'invisible-signature' | 'preloaded';

export interface MatrixCase {
  /** The numbering, kept in the README. */
  number: string;
  name: string;
  title: string;
  image: string;
  expected: Expectation;
  /** For a rejection: the library's words that must follow SignatureValidationFailed. */
  reason?: RegExp;
  /** Pull inside this namespace (crictl pull --pod-config), as kubelet does for a pod. */
  namespace?: string;
  procedure: Procedure;
  /** Cases with the same key share an image and run one after another. */
  serial?: string;
  /** Which optional program the case needs: it is shown as not run, with the reason, when absent. */
  needs?: 'cosign-v2' | 'cosign-v3' | 'openssl' | 'gpg';
  /** What the case needs on the node while it runs, besides the product's trust configuration. */
  adds?: NodeAddition[];
  /** The image as this machine has it, when `image` is only the usual one (the pause image). */
  imageOf?(ctx: Context): Promise<string>;
  prepare(p: typeof Preparers): Step[];
}

export const cosignV2Binary = (): string => process.env.CRIO_SIGPOC_COSIGN_V2 || 'cosign-v2';

const trusted = (p: typeof Preparers): Signer => ({ key: 'trusted', cosign: p.cosignBinary(), format: 'legacy' });
const second = (p: typeof Preparers): Signer => ({ key: 'other', cosign: p.cosignBinary(), format: 'legacy' });
/** Signed by a key the global policy does not trust: the library's words for a failed verification. */
const UNTRUSTED_KEY = /verif|invalid|signature/i;
const ref = (name: string, tag = 'v1'): string => `${matrixRepo(name)}:${tag}`;
const byCertificate = (p: typeof Preparers, id: PkiIdentity): Signer => ({ key: p.pkiSigner(id), cosign: p.cosignBinary(), format: 'legacy' });

/** Case 16: an image of its own, signed with one identity of the matrix's PKI, pulled in the pki namespace. */
function pkiCase(number: string, id: PkiIdentity, title: string, expected: Expectation, reason?: RegExp): MatrixCase {
  const image = ref(`pki-${id}`);
  return { number, name: `pki-${id}`, title, image, expected, reason, namespace: PKI_NAMESPACE, procedure: 'pull', needs: 'openssl', adds: ['pki'], prepare: (p) => [p.pkiStep(), p.imageStep(`matrix-pki-${id}-image`, image, byCertificate(p, id))] };
}

/** Case 17: GPG simple signing, signatures in the lookaside store; the last one has none there. */
function gpgCase(number: string, name: string, title: string, signer: GpgIdentity | undefined, expected: Expectation, reason?: RegExp): MatrixCase {
  const image = `${GPG_SCOPE}/${name}:v1`;
  return { number, name: `gpg-${name}`, title, image, expected, reason, namespace: GPG_NAMESPACE, procedure: 'pull', needs: 'gpg', adds: ['gpg'], prepare: (p) => [p.gpgKeysStep(), p.gpgImageStep(`matrix-gpg-${name}-image`, image, signer)] };
}

export const MATRIX: MatrixCase[] = [
  { number: '1', name: 'signed', title: 'signed with the trusted key', image: imageRef(IMAGES.signed), expected: 'accepted', procedure: 'pull', prepare: () => [] },
  { number: '2', name: 'unsigned', title: 'no signature at all', image: imageRef(IMAGES.unsigned), expected: 'rejected', reason: NO_SIGNATURE, procedure: 'pull', prepare: () => [] },
  {
    number: '3',
    name: 'other-key',
    title: 'signed with a key the policy does not trust',
    image: ref('other-key'),
    expected: 'rejected',
    reason: UNTRUSTED_KEY,
    procedure: 'pull',
    prepare: (p) => [p.otherKeyStep(), p.imageStep('matrix-other-key-image', ref('other-key'), second(p))],
  },
  {
    number: '4',
    name: 'moved-tag',
    title: 'the signed tag moved to other content after signing',
    image: ref('moved'),
    expected: 'rejected',
    reason: NO_SIGNATURE,
    procedure: 'pull',
    prepare: (p) => [p.movedTagStep('matrix-moved-tag', ref('moved'), trusted(p))],
  },
  {
    number: '5',
    name: 'copied',
    title: 'a valid signature copied with its image into another repository (matchRepository)',
    image: ref('copied', IMAGES.signed.tag),
    expected: 'rejected',
    reason: /identity|not accepted|does not match/i,
    procedure: 'pull',
    prepare: (p) => [p.copiedStep('matrix-copied', imageRef(IMAGES.signed), ref('copied', IMAGES.signed.tag))],
  },
  {
    number: '6',
    name: 'other-name',
    title: 'the same registry reached by a name the policy does not list (default: reject)',
    image: `${ALIAS_REGISTRY}/${IMAGES.signed.repository.split('/').slice(1).join('/')}:${IMAGES.signed.tag}`,
    expected: 'rejected',
    reason: /rejected by policy/,
    procedure: 'pull',
    adds: ['alias-registry'],
    prepare: () => [],
  },
  {
    number: '7',
    name: 'allowed-scope',
    title: "the pause image's own scope, the one the policy lets in without verification",
    image: imageRef(IMAGES.pause),
    imageOf: async (ctx) => (await (await import('../../crio/config.js')).readCrioConfig(ctx.opts.root)).pauseImage.value,
    expected: 'accepted',
    procedure: 'pull',
    // Case 10 starts a sandbox, which needs the pause image this case removes and pulls again.
    serial: 'pause-image',
    prepare: () => [],
  },
  {
    number: '8',
    name: 'cosign-v3-bundle',
    title: "signed by cosign v3 in its default format (Sigstore bundle): cosign verify passes, CRI-O cannot see it",
    image: ref('v3-bundle'),
    expected: 'rejected',
    reason: NO_SIGNATURE,
    procedure: 'invisible-signature',
    needs: 'cosign-v3',
    prepare: (p) => [p.imageStep('matrix-v3-bundle-image', ref('v3-bundle'), { key: 'trusted', cosign: p.cosignBinary(), format: 'bundle' })],
  },
  {
    number: '9',
    name: 'cosign-v2',
    title: 'signed by cosign v2 with the flags the tool chooses',
    image: ref('cosign-v2'),
    expected: 'accepted',
    procedure: 'pull',
    needs: 'cosign-v2',
    prepare: (p) => [p.imageStep('matrix-cosign-v2-image', ref('cosign-v2'), { key: 'trusted', cosign: cosignV2Binary(), format: 'legacy' })],
  },
  {
    number: '10',
    name: 'preloaded',
    title: `an image in storage that only ${OPEN_NAMESPACE}'s policy let in (second key): new pull and container creation refused elsewhere`,
    image: ref('preloaded'),
    expected: 'rejected',
    reason: UNTRUSTED_KEY,
    procedure: 'preloaded',
    serial: 'pause-image',
    adds: ['namespace-policy'],
    prepare: (p) => [p.otherKeyStep(), p.imageStep('matrix-preloaded-image', ref('preloaded'), second(p))],
  },
  {
    number: '11a',
    name: 'namespace-open',
    title: `namespace policy: signed by the second key, accepted in namespace ${OPEN_NAMESPACE} (its own policy file trusts that key)`,
    image: ref('namespaced'),
    expected: 'accepted',
    namespace: OPEN_NAMESPACE,
    procedure: 'pull',
    serial: 'namespaced',
    adds: ['namespace-policy'],
    prepare: (p) => [p.otherKeyStep(), p.imageStep('matrix-namespaced-image', ref('namespaced'), second(p))],
  },
  {
    number: '11b',
    name: 'namespace-closed',
    title: `namespace policy: the same image rejected in namespace ${CLOSED_NAMESPACE} (global policy, the trusted key only)`,
    image: ref('namespaced'),
    expected: 'rejected',
    reason: UNTRUSTED_KEY,
    namespace: CLOSED_NAMESPACE,
    procedure: 'pull',
    serial: 'namespaced',
    adds: ['namespace-policy'],
    prepare: (p) => [p.otherKeyStep(), p.imageStep('matrix-namespaced-image', ref('namespaced'), second(p))],
  },
  {
    number: '12',
    name: 'original-registries-d',
    title: "the original proof's registries.d (`sigstore:` only): a correctly signed image is rejected",
    image: `${ORIGINAL_STYLE_SCOPE}:v1`,
    expected: 'rejected',
    reason: NO_SIGNATURE,
    procedure: 'pull',
    adds: ['original-registries-d'],
    prepare: (p) => [p.imageStep('matrix-original-registries-d-image', `${ORIGINAL_STYLE_SCOPE}:v1`, trusted(p))],
  },
  {
    number: '13a',
    name: 'index-only',
    title: 'multi-platform image signed only at its index digest',
    image: ref('multi-index'),
    expected: 'rejected',
    reason: NO_SIGNATURE,
    procedure: 'pull',
    prepare: (p) => [p.indexStep('matrix-index-only', ref('multi-index'), trusted(p))],
  },
  {
    number: '13b',
    name: 'index-recursive',
    title: 'multi-platform image signed recursively (every platform digest)',
    image: ref('multi-recursive'),
    expected: 'accepted',
    procedure: 'pull',
    prepare: (p) => [p.indexStep('matrix-index-recursive', ref('multi-recursive'), { ...trusted(p), recursive: true })],
  },
  {
    number: '14a',
    name: 'any-key-old',
    title: `any of several keys (keyPaths, as during a key rotation): signed by the trusted key, accepted in namespace ${ANY_KEY_NAMESPACE}`,
    image: ref('any-key-old'),
    expected: 'accepted',
    namespace: ANY_KEY_NAMESPACE,
    procedure: 'pull',
    adds: ['trust-models'],
    prepare: (p) => [p.otherKeyStep(), p.imageStep('matrix-any-key-old-image', ref('any-key-old'), trusted(p))],
  },
  {
    number: '14b',
    name: 'any-key-new',
    title: `any of several keys (keyPaths): signed by the second key, accepted in namespace ${ANY_KEY_NAMESPACE} too`,
    image: ref('any-key-new'),
    expected: 'accepted',
    namespace: ANY_KEY_NAMESPACE,
    procedure: 'pull',
    adds: ['trust-models'],
    prepare: (p) => [p.otherKeyStep(), p.imageStep('matrix-any-key-new-image', ref('any-key-new'), second(p))],
  },
  {
    number: '15a',
    name: 'all-of-one',
    title: `all of two requirements (a signature by each key): signed by the trusted key only, rejected in namespace ${ALL_OF_NAMESPACE}`,
    image: ref('all-of-one'),
    expected: 'rejected',
    reason: UNTRUSTED_KEY,
    namespace: ALL_OF_NAMESPACE,
    procedure: 'pull',
    adds: ['trust-models'],
    prepare: (p) => [p.otherKeyStep(), p.imageStep('matrix-all-of-one-image', ref('all-of-one'), trusted(p))],
  },
  {
    number: '15b',
    name: 'all-of-both',
    title: `all of two requirements: signed by both keys, accepted in namespace ${ALL_OF_NAMESPACE}`,
    image: ref('all-of-both'),
    expected: 'accepted',
    namespace: ALL_OF_NAMESPACE,
    procedure: 'pull',
    adds: ['trust-models'],
    prepare: (p) => [p.otherKeyStep(), p.imageSignedByEachStep('matrix-all-of-both-image', ref('all-of-both'), [trusted(p), second(p)])],
  },
  pkiCase('16a', 'signer', `your own X.509 CA (pki): signed with a certificate of the matrix's CA for ${PKI_SUBJECT_EMAIL}, accepted in namespace ${PKI_NAMESPACE}`, 'accepted'),
  pkiCase('16b', 'other-subject', `pki: a certificate of the same CA for another subject, rejected in namespace ${PKI_NAMESPACE}`, 'rejected', new RegExp(`Required email "${PKI_SUBJECT_EMAIL.replace(/\./g, '\\.')}" not found`)),
  pkiCase('16c', 'other-ca', `pki: the right subject in a certificate from another CA, rejected in namespace ${PKI_NAMESPACE}`, 'rejected', /certificate signed by unknown authority/),
  gpgCase('17a', 'signer', `GPG simple signing (signedBy, GPGKeys): signed by skopeo with the matrix's GPG key, the signature in a lookaside store, accepted in namespace ${GPG_NAMESPACE}`, 'signer', 'accepted'),
  gpgCase('17b', 'other-key', `GPG simple signing: signed with another GPG key, rejected in namespace ${GPG_NAMESPACE}`, 'other', 'rejected', /Key not found for key ID [0-9a-fA-F]+ in signature/),
  gpgCase('17c', 'unsigned', `GPG simple signing: no signature in the lookaside store, rejected in namespace ${GPG_NAMESPACE}`, undefined, 'rejected', NO_SIGNATURE),
];

/** The fix a user needs when cosign's default format is the reason (case 8). */
export const BUNDLE_FIX = 'sign with: cosign sign --key cosign.key --new-bundle-format=false --use-signing-config=false --tlog-upload=false IMAGE@DIGEST';
