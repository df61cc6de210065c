// The layout of the tool's state directory (keys, registry data, logs, pid files, records): every
// writer takes its paths from here, and clean-all removes what stateEntries lists.
import path from 'node:path';

export function statePaths(stateDir: string) {
  const keys = path.join(stateDir, 'keys');
  const matrix = path.join(stateDir, 'matrix');
  return {
    keysDir: keys,
    privateKey: path.join(keys, 'cosign.key'),
    publicKey: path.join(keys, 'cosign.pub'),
    /** Generated passphrase, kept 0600 beside the key when COSIGN_PASSWORD is not given. */
    password: path.join(keys, 'cosign.password'),
    /** The matrix's second cosign key pair, which the global policy does not trust. */
    otherKeysDir: path.join(stateDir, 'keys-other'),
    /** The matrix's own X.509 CA and leaf certificates (case 16); kept with the keys. */
    pkiDir: path.join(stateDir, 'keys-pki'),
    /** The matrix's GnuPG home with two signing keys (case 17); kept with the keys. */
    gpgDir: path.join(stateDir, 'keys-gpg'),
    /** During a rotation: the old key pair, still trusted by the policy, no longer used to sign. */
    previousKeysDir: path.join(stateDir, 'keys-previous'),
    previousPublicKey: path.join(stateDir, 'keys-previous', 'cosign.pub'),
    /** Written before a rotation's two renames, removed after them: a killed rotation is finished, never redone. */
    rotationJournal: path.join(stateDir, 'keys-rotation.json'),
    registryDir: path.join(stateDir, 'registry'),
    registryData: path.join(stateDir, 'registry', 'data'),
    registryConfig: path.join(stateDir, 'registry', 'config.yml'),
    logsDir: path.join(stateDir, 'logs'),
    runDir: path.join(stateDir, 'run'),
    /** What was signed, by which key, so a rotated key means re-signing. */
    signedRecord: path.join(stateDir, 'signed.json'),
    imageBuildDir: path.join(stateDir, 'image-build'),
    /** Files on their way into /etc through sudo. */
    stagingDir: path.join(stateDir, 'staging'),
    /** The matrix's pod configs, records of its preparations and its lookaside store. */
    matrixDir: matrix,
    /** What each cached preparation of the matrix was signed with (key, cosign). */
    preparedDir: path.join(matrix, 'prepared'),
    /** The matrix's lookaside store of simple signatures, read by CRI-O through a file:// URL (case 17). */
    lookasideDir: path.join(matrix, 'lookaside'),
    testPodsDir: path.join(stateDir, 'test-pods'),
    /** verify's and audit's pod configs. */
    verifyDir: path.join(stateDir, 'verify'),
    kubernetesDir: path.join(stateDir, 'kubernetes'),
    ledger: path.join(stateDir, 'ledger.json'),
    ledgerLock: path.join(stateDir, 'ledger.lock'),
  };
}

/**
 * What clean-all removes: the data always, the key material only when asked. The ledger (which
 * clean-all empties), its lock and the logs stay.
 */
export function stateEntries(stateDir: string): { data: string[]; keys: string[] } {
  const p = statePaths(stateDir);
  return {
    data: [p.registryDir, p.signedRecord, p.imageBuildDir, p.runDir, p.stagingDir, p.matrixDir, p.testPodsDir, p.verifyDir, p.kubernetesDir],
    keys: [p.keysDir, p.otherKeysDir, p.pkiDir, p.gpgDir, p.previousKeysDir, p.rotationJournal],
  };
}

/** Kept by clean-all. */
export const keptStateEntries = (stateDir: string): string[] => {
  const p = statePaths(stateDir);
  return [p.ledger, p.ledgerLock, p.logsDir];
};
