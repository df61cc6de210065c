// What the matrix adds to the node's configuration so that each case can hold without disturbing
// the others: its own repositories under matrix/, a second name for the same registry, one
// namespace policy that trusts the second key, and one registries.d file in the original proof's
// style. None of it admits an unsigned image, and it exists only while `test` runs (node.ts).
import { registryAddress, REGISTRY } from '../../core/settings.js';

export const MATRIX_NAMESPACE = `${registryAddress}/matrix`;
export const matrixRepo = (name: string): string => `${MATRIX_NAMESPACE}/${name}`;

/** Case 6: the same registry under a name the policy does not list. */
export const ALIAS_REGISTRY = `localhost:${REGISTRY.port}`;
export const ALIAS_REGISTRIES_CONF = '/etc/containers/registries.conf.d/51-crio-sigpoc-matrix-alias.conf';

/** Cases 10 and 11: a namespace whose policy trusts the second key; any other namespace falls back. */
export const OPEN_NAMESPACE = 'sigpoc-open';
export const CLOSED_NAMESPACE = 'sigpoc-closed';
export const SECOND_KEY_PATH = '/etc/containers/keys/crio-sigpoc-matrix-second.pub';
export const OPEN_NAMESPACE_POLICY = {
  default: [{ type: 'reject' }],
  transports: { docker: { [registryAddress]: [{ type: 'sigstoreSigned', keyPath: SECOND_KEY_PATH, signedIdentity: { type: 'matchRepository' } }] } },
};

/** Case 12: the original proof's registries.d, scoped to one repository so the others keep theirs. */
export const ORIGINAL_STYLE_SCOPE = matrixRepo('original-registries-d');
// use-sigstore-attachments is looked up scope by scope like the other keys, so the registry-wide
// `true` would leak into this repository unless it is switched off here, as the original had it.
export const ORIGINAL_STYLE_REGISTRIES_D = { docker: { [ORIGINAL_STYLE_SCOPE]: { sigstore: `http://${registryAddress}`, 'use-sigstore-attachments': false } } };
export const ORIGINAL_STYLE_FILE = '/etc/containers/registries.d/crio-sigpoc-original-poc-style.yaml';

/**
 * Cases 14 and 15, two trust models in namespace policies of their own: any of several keys
 * (`keyPaths`, what a key rotation relies on) and all of several requirements (two teams). Both
 * reject by default and require signatures; the trusted key is copied beside the second one so
 * that they hold whatever policy the user installed.
 */
export const TRUSTED_KEY_COPY_PATH = '/etc/containers/keys/crio-sigpoc-matrix-trusted.pub';
export const ANY_KEY_NAMESPACE = 'sigpoc-any-key';
export const ALL_OF_NAMESPACE = 'sigpoc-all-of';
const matchRepository = { type: 'matchRepository' } as const;
export const ANY_KEY_POLICY = {
  default: [{ type: 'reject' }],
  transports: { docker: { [registryAddress]: [{ type: 'sigstoreSigned', keyPaths: [TRUSTED_KEY_COPY_PATH, SECOND_KEY_PATH], signedIdentity: matchRepository }] } },
};
export const ALL_OF_POLICY = {
  default: [{ type: 'reject' }],
  transports: {
    docker: {
      [registryAddress]: [
        { type: 'sigstoreSigned', keyPath: TRUSTED_KEY_COPY_PATH, signedIdentity: matchRepository },
        { type: 'sigstoreSigned', keyPath: SECOND_KEY_PATH, signedIdentity: matchRepository },
      ],
    },
  },
};

/**
 * Case 16, the node's own X.509 CA (`pki`, CRI-O 1.33+): a root and an intermediate of the matrix
 * and one subject. cosign v3 leaves the chain out of the signature, so the intermediate must be
 * in the policy; the library never takes the chain's last certificate as an intermediate anyway.
 */
export const PKI_NAMESPACE = 'sigpoc-pki';
export const PKI_SUBJECT_EMAIL = 'signer@crio-sigpoc.test';
export const PKI_ROOT_PATH = '/etc/containers/keys/crio-sigpoc-matrix-pki-root.pem';
export const PKI_INTERMEDIATE_PATH = '/etc/containers/keys/crio-sigpoc-matrix-pki-intermediate.pem';
export const PKI_POLICY = {
  default: [{ type: 'reject' }],
  transports: {
    docker: {
      [registryAddress]: [{ type: 'sigstoreSigned', pki: { caRootsPath: PKI_ROOT_PATH, caIntermediatesPath: PKI_INTERMEDIATE_PATH, subjectEmail: PKI_SUBJECT_EMAIL }, signedIdentity: matchRepository }],
    },
  },
};

/**
 * Case 17, GPG simple signing (`signedBy`, GPGKeys): signatures made by skopeo with a key of the
 * matrix, kept in a lookaside store (registries.d `lookaside:`, a file:// URL into the state
 * directory) for the matrix's gpg repositories only. The policy's identity rule is the default
 * (matchRepoDigestOrExact): a simple signature names the image's full reference.
 */
export const GPG_NAMESPACE = 'sigpoc-gpg';
export const GPG_SCOPE = matrixRepo('gpg');
export const GPG_KEY_PATH = '/etc/containers/keys/crio-sigpoc-matrix-gpg.pub';
export const GPG_REGISTRIES_D_FILE = '/etc/containers/registries.d/crio-sigpoc-matrix-gpg.yaml';
export const gpgRegistriesD = (lookasideDir: string) => ({ docker: { [GPG_SCOPE]: { lookaside: `file://${lookasideDir}` } } });
export const GPG_POLICY = {
  default: [{ type: 'reject' }],
  transports: { docker: { [registryAddress]: [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: GPG_KEY_PATH }] } },
};
