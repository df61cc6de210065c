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
    registryData: path.join(stateDir, 'registry', 'data'),
    registryConfig: path.join(stateDir, 'registry', 'config.yml'),
    logsDir: path.join(stateDir, 'logs'),
    runDir: path.join(stateDir, 'run'),
    /** What was signed, by which key, so a rotated key means re-signing. */
    signedRecord: path.join(stateDir, 'signed.json'),
    imageBuildDir: path.join(stateDir, 'image-build'),
  };
}
