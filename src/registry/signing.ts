// Signing with cosign by digest, in the format CRI-O can read (legacy `.sig`) or in cosign v3's
// default Sigstore bundle, with the trusted key pair or a second one the policy does not know.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Context } from '../core/context.js';
import { must } from '../core/command.js';
import { keyPassphrase, readSecret, trustedPair } from './keys.js';
import { statePaths } from '../core/state.js';
import { cosignVersion, signArgs } from './cosign.js';
import { manifestDigest, signatureTag } from './client.js';

export type SignFormat = 'legacy' | 'bundle';
/** What cosign signs with; a certificate (and its chain to the root) when the key is an X.509 leaf's. */
export interface KeyMaterial {
  privateKey: string;
  passphrase: string;
  certificate?: string;
  chain?: string;
}
/** Key material made elsewhere (the matrix's own PKI), named for step titles. */
export interface KeySource {
  label: string;
  files(ctx: Context): Promise<KeyMaterial>;
  /** The public file that changes when the key does (a certificate), for stamps. */
  publicFile(ctx: Context): string;
}
export interface Signer {
  /** Which key: ours (trusted), a second pair the policy does not know, or one of another kind. */
  key: 'trusted' | 'other' | KeySource;
  cosign: string;
  format: SignFormat;
  recursive?: boolean;
}

export const otherKeyDir = (ctx: Context): string => statePaths(ctx.stateDir).otherKeysDir;

export const signerLabel = (s: Signer): string => (typeof s.key === 'string' ? `${s.key} key` : s.key.label);

async function keyFiles(ctx: Context, key: Signer['key']): Promise<KeyMaterial> {
  if (typeof key !== 'string') return key.files(ctx);
  const dir = key === 'trusted' ? statePaths(ctx.stateDir).keysDir : otherKeyDir(ctx);
  const found = await trustedPair(ctx, dir);
  const privateKey = path.join(dir, 'cosign.key');
  if (key === 'trusted') return { privateKey, passphrase: ctx.opts.dryRun ? '' : await keyPassphrase(ctx) };
  return { privateKey, passphrase: found.password ? await readSecret(found.password) : '' };
}

const publicFileOf = (ctx: Context, key: Signer['key']): string =>
  typeof key !== 'string' ? key.publicFile(ctx) : key === 'trusted' ? statePaths(ctx.stateDir).publicKey : path.join(otherKeyDir(ctx), 'cosign.pub');

/**
 * What a signature was made with: the key (its public half's hash), cosign's version and the
 * format. A preparation recorded with another stamp is redone (after a rotation, a new cosign).
 */
export async function signerStamp(ctx: Context, s: Signer): Promise<string> {
  const pub = await fs.readFile(publicFileOf(ctx, s.key)).catch(() => Buffer.from('absent'));
  const { version } = await cosignVersion(ctx, s.cosign);
  return [createHash('sha256').update(pub).digest('hex').slice(0, 16), `cosign ${version}`, s.format, ...(s.recursive ? ['recursive'] : [])].join(' ');
}

/** Where the signature of digest lives: cosign's .sig tag, or the referrers fallback tag of a bundle. */
export const signatureLocation = (digest: string, format: SignFormat): string => (format === 'legacy' ? signatureTag(digest) : digest.replace(':', '-'));

export async function isSigned(repository: string, digest: string, format: SignFormat): Promise<boolean> {
  return (await manifestDigest(repository, signatureLocation(digest, format)).catch(() => undefined)) !== undefined;
}

export async function sign(ctx: Context, repository: string, digest: string, s: Signer): Promise<void> {
  const { major } = await cosignVersion(ctx, s.cosign);
  const { privateKey, passphrase, certificate, chain } = await keyFiles(ctx, s.key);
  const byDigest = `${repository}@${digest}`;
  // The bundle case is cosign v3's default: only the transparency log and signing config are off.
  const args =
    s.format === 'legacy'
      ? signArgs(major, privateKey, byDigest, { certificate, chain })
      : ['sign', '--key', privateKey, '--tlog-upload=false', '--use-signing-config=false', '--yes', byDigest];
  if (s.recursive) args.splice(1, 0, '--recursive');
  await must(ctx.runner, { file: s.cosign, args, env: { COSIGN_PASSWORD: passphrase }, secretEnv: ['COSIGN_PASSWORD'], timeoutMs: 120_000 });
}
