// Signs the signed test image BY DIGEST with our key, in the format CRI-O can verify.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { Context } from '../core/context.js';
import type { Step } from '../core/step.js';
import { done, drift, todo } from '../core/step.js';
import { IMAGES, imageRef } from '../core/settings.js';
import { statePaths } from '../core/state.js';
import { sign } from './signing.js';
import { cosignBinary, cosignVersion } from './cosign.js';
import { hasSignature, manifestDigest } from './client.js';
import { pushAndConfirm } from './images.js';
import { assertOwnRegistry } from './owner.js';
import { chooseBackend } from './registry.js';

export interface SignedRecord {
  image: string;
  digest: string;
  publicKeySha256: string;
  cosign: string;
}

export async function publicKeyFingerprint(ctx: Context): Promise<string | undefined> {
  const pub = await fs.readFile(statePaths(ctx.stateDir).publicKey).catch(() => undefined);
  return pub && createHash('sha256').update(pub).digest('hex');
}

export async function readSignedRecord(ctx: Context): Promise<SignedRecord | undefined> {
  return fs
    .readFile(statePaths(ctx.stateDir).signedRecord, 'utf8')
    .then((t) => JSON.parse(t) as SignedRecord)
    .catch(() => undefined);
}

/** Signs repository@digest with the given cosign; returns what was signed. */
export async function signImage(ctx: Context, repository: string, digest: string, binary = cosignBinary()): Promise<SignedRecord> {
  const { version } = await cosignVersion(ctx, binary);
  await sign(ctx, repository, digest, { key: 'trusted', cosign: binary, format: 'legacy' });
  return { image: repository, digest, publicKeySha256: (await publicKeyFingerprint(ctx)) ?? '', cosign: version };
}

export function signStep(): Step {
  const img = IMAGES.signed;
  return {
    id: 'sign',
    title: `signature on ${imageRef(img)}`,
    async check(ctx) {
      await assertOwnRegistry(ctx, await chooseBackend(ctx, 'auto'));
      const digest = await manifestDigest(img.repository, img.tag).catch(() => undefined);
      if (!digest) return todo(`${imageRef(img)} is not in the registry yet`);
      const record = await readSignedRecord(ctx);
      if (!(await hasSignature(img.repository, digest))) return todo(`no signature for ${digest}`);
      if (!record || record.digest !== digest) return drift(`the signature for ${digest} was not made by this tool`);
      if (record.publicKeySha256 !== (await publicKeyFingerprint(ctx))) return drift('signed with a key that has since been rotated');
      const { version } = await cosignVersion(ctx);
      if (record.cosign !== version) return drift(`signed by cosign ${record.cosign}, the cosign installed now is ${version}`);
      return done(`${digest.slice(0, 19)}… signed by cosign ${record.cosign}`);
    },
    async apply(ctx) {
      await assertOwnRegistry(ctx, await chooseBackend(ctx, 'auto'));
      const digest = await pushAndConfirm(ctx, imageRef(img));
      const record = await signImage(ctx, img.repository, digest);
      await ctx.state.write(statePaths(ctx.stateDir).signedRecord, JSON.stringify(record, null, 2) + '\n');
    },
  };
}
