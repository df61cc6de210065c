// The layout of the tool's state directory (keys, registry data, logs, pid files, records).
import path from 'node:path';

export function statePaths(stateDir: string) {
  const keys = path.join(stateDir, 'keys');
  return {
    keysDir: keys,
    privateKey: path.join(keys, 'cosign.key'),
    publicKey: path.join(keys, 'cosign.pub'),
    /** Generated passphrase, kept 0600 beside the key when COSIGN_PASSWORD is not given. */
    password: path.join(keys, 'cosign.password'),
    /** The matrix's own X.509 CA and leaf certificates (case 16); kept with the keys. */
    pkiDir: path.join(stateDir, 'keys-pki'),
    /** The matrix's GnuPG home with two signing keys (case 17); kept with the keys. */
    gpgDir: path.join(stateDir, 'keys-gpg'),
    /** The matrix's lookaside store of simple signatures, read by CRI-O through a file:// URL (case 17). */
    lookasideDir: path.join(stateDir, 'matrix', 'lookaside'),
    /** During a rotation: the old key pair, still trusted by the policy, no longer used to sign. */
    previousKeysDir: path.join(stateDir, 'keys-previous'),
    previousPublicKey: path.join(stateDir, 'keys-previous', 'cosign.pub'),
    /** Written before a rotation's two renames, removed after them: a killed rotation is finished, never redone. */
    rotationJournal: path.join(stateDir, 'keys-rotation.json'),
    registryData: path.join(stateDir, 'registry', 'data'),
    registryConfig: path.join(stateDir, 'registry', 'config.yml'),
    logsDir: path.join(stateDir, 'logs'),
    runDir: path.join(stateDir, 'run'),
    /** What was signed, by which key, so a rotated key means re-signing. */
    signedRecord: path.join(stateDir, 'signed.json'),
    imageBuildDir: path.join(stateDir, 'image-build'),
  };
}
