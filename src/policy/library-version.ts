// Which containers/image the installed CRI-O was built with: policy fields newer than it make the
// library refuse the whole policy (`Unknown key "keyPaths"`), and then every pull fails.
import type { Context } from '../core/context.js';

/**
 * sigstoreSigned keyPaths/keyDatas and rekorPublicKeyPaths/rekorPublicKeyDatas first appear in
 * containers/image v5.32.2 (commits 95c0635e "Add field KeyPaths and KeyDatas to prSigstoreSigned"
 * and 2a87b21a "Support accepting multiple Rekor public keys", also in v5.33.0); v5.32.1's
 * signature/policy_config_sigstore.go does not know them.
 */
export const SIGSTORE_KEY_LISTS_MIN_VERSION = '5.32.2';
/** sigstoreSigned "pki" first appears in containers/image v5.35.0 (signature/policy_config_sigstore.go). */
export const SIGSTORE_PKI_MIN_VERSION = '5.35.0';

export const SIGSTORE_FIELD_MIN_VERSION: Record<string, string> = {
  keyPaths: SIGSTORE_KEY_LISTS_MIN_VERSION,
  keyDatas: SIGSTORE_KEY_LISTS_MIN_VERSION,
  rekorPublicKeyPaths: SIGSTORE_KEY_LISTS_MIN_VERSION,
  rekorPublicKeyDatas: SIGSTORE_KEY_LISTS_MIN_VERSION,
  pki: SIGSTORE_PKI_MIN_VERSION,
};

export type LibraryVersion = { version: string; module: string } | { unknown: string };

// The module moved from github.com/containers/image to go.podman.io/image with v5.38.
const MODULE_LINE = /^\s*(go\.podman\.io\/image\/v5|github\.com\/containers\/image\/v5)\s+v(\d+\.\d+\.\d+\S*)/m;

/** From `crio version --verbose`, which lists the Go modules CRI-O was built with (internal/version). */
export function crioImageLibrary(ctx: Context): Promise<LibraryVersion> {
  return ctx.memo('crio-image-library', async () => {
    const r = await ctx.probe.run({ file: 'crio', args: ['version', '--verbose'], readOnly: true, timeoutMs: 15_000 });
    if (r.exitCode !== 0 || r.timedOut) return { unknown: `crio version --verbose did not answer (${(r.stderr || `exit ${r.exitCode}`).trim().split('\n')[0]})` };
    const m = MODULE_LINE.exec(r.stdout);
    return m ? { module: m[1], version: m[2] } : { unknown: 'crio version --verbose does not name the containers/image module it was built with' };
  });
}

/** Semantic-version order; a pre-release (or Go pseudo-version) sorts before its release. */
export function versionAtLeast(version: string, min: string): boolean {
  const parse = (v: string): [number[], boolean] => {
    const [core, pre] = [v.replace(/[-+].*$/, ''), /-/.test(v)];
    return [core.split('.').map(Number), pre];
  };
  const [a, aPre] = parse(version);
  const [b] = parse(min);
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return !aPre;
}
