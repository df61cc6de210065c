// Signing with cosign by digest, in the format CRI-O can read (legacy `.sig`) or in cosign v3's
// default Sigstore bundle, with the trusted key pair or a second one the policy does not know.
import path from 'node:path';
import type { Context } from '../core/context.js';
import { must } from '../core/command.js';
import { keyPassphrase, readSecret, trustedPair } from './keys.js';
import { statePaths } from '../core/state.js';
import { cosignVersion, signArgs } from './cosign.js';
import { manifestDigest, signatureTag } from './client.js';

export type SignFormat = 'legacy' | 'bundle';
export interface Signer {
  /** Which key pair: ours (trusted) or a second one the policy does not know. */
  key: 'trusted' | 'other';
  cosign: string;
  format: SignFormat;
  recursive?: boolean;
}

export const otherKeyDir = (ctx: Context): string => path.join(ctx.stateDir, 'keys-other');

async function keyFiles(ctx: Context, key: Signer['key']): Promise<{ privateKey: string; passphrase: string }> {
  const dir = key === 'trusted' ? statePaths(ctx.stateDir).keysDir : otherKeyDir(ctx);
  const found = await trustedPair(ctx, dir);
  const privateKey = path.join(dir, 'cosign.key');
  if (key === 'trusted') return { privateKey, passphrase: ctx.opts.dryRun ? '' : await keyPassphrase(ctx) };
  return { privateKey, passphrase: found.password ? await readSecret(found.password) : '' };
}

/** Where the signature of digest lives: cosign's .sig tag, or the referrers fallback tag of a bundle. */
export const signatureLocation = (digest: string, format: SignFormat): string => (format === 'legacy' ? signatureTag(digest) : digest.replace(':', '-'));

export async function isSigned(repository: string, digest: string, format: SignFormat): Promise<boolean> {
  return (await manifestDigest(repository, signatureLocation(digest, format)).catch(() => undefined)) !== undefined;
}

export async function sign(ctx: Context, repository: string, digest: string, s: Signer): Promise<void> {
  const { major } = await cosignVersion(ctx, s.cosign);
  const { privateKey, passphrase } = await keyFiles(ctx, s.key);
  const byDigest = `${repository}@${digest}`;
  // The bundle case is cosign v3's default: only the transparency log and signing config are off.
  const args =
    s.format === 'legacy'
      ? signArgs(major, privateKey, byDigest)
      : ['sign', '--key', privateKey, '--tlog-upload=false', '--use-signing-config=false', '--yes', byDigest];
  if (s.recursive) args.splice(1, 0, '--recursive');
  await must(ctx.runner, { file: s.cosign, args, env: { COSIGN_PASSWORD: passphrase }, secretEnv: ['COSIGN_PASSWORD'], timeoutMs: 120_000 });
}
