// Preparation of the matrix's images, as converging steps: each checks the registry and does
// nothing when its images and signatures are already there, so a warm run only pulls.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Context } from '../../core/context.js';
import { must } from '../../core/command.js';
import type { Step } from '../../core/step.js';
import { done, todo } from '../../core/step.js';
import { buildAndPush, ensurePushed, splitTag, tagExists } from '../../registry/images.js';
import type { Signer } from '../../registry/signing.js';
import { isSigned, otherKeyDir, sign, signerLabel, signerStamp } from '../../registry/signing.js';
import { cosignBinary } from '../../registry/cosign.js';
import { statePaths } from '../../core/state.js';

/** The cosign a signer uses, for the cases' data (cases.ts imports nothing of this module but its types). */
export { cosignBinary };
import { generateKeyPair, trustedPair } from '../../registry/keys.js';
import { manifestDigest, manifestUrl, putIndex, signatureCount } from '../../registry/client.js';
export { pkiSigner, pkiStep } from './pki.js';
export { gpgImageStep, gpgKeysStep } from './gpg.js';
import { recordStamp, restampReason } from './prepared.js';

const stampOf = async (ctx: Context, signers: Signer[]): Promise<string> => (await Promise.all(signers.map((s) => signerStamp(ctx, s)))).join(' + ');
/** Why a preparation must be redone although its images are there: made with another key or cosign. */
const restamp = async (ctx: Context, id: string, signers: Signer[]): Promise<string | undefined> => restampReason(ctx, id, await stampOf(ctx, signers));
const stamp = async (ctx: Context, id: string, signers: Signer[]): Promise<void> => recordStamp(ctx, id, await stampOf(ctx, signers));

/** A second key pair, unknown to the policy (case 3). */
export function otherKeyStep(): Step {
  return {
    id: 'matrix-other-key',
    title: 'a second cosign key pair the policy does not trust',
    async check(ctx) {
      return (await trustedPair(ctx, otherKeyDir(ctx))).privateKey ? done() : todo('no second key pair');
    },
    async apply(ctx) {
      await generateKeyPair(ctx, otherKeyDir(ctx), randomBytes(24).toString('base64url'), true);
    },
  };
}

/** An image of its own, optionally signed. */
export function imageStep(id: string, ref: string, signer?: Signer): Step {
  const { repository, tag } = splitTag(ref);
  return {
    id,
    title: `${ref}${signer ? ` signed (${signerLabel(signer)}, ${path.basename(signer.cosign)}, ${signer.format})` : ' unsigned'}`,
    async check(ctx) {
      const digest = await manifestDigest(repository, tag).catch(() => undefined);
      if (!digest) return todo(`${ref} is not in the registry`);
      if (!signer) return done();
      if (!(await isSigned(repository, digest, signer.format))) return todo(`${ref} is not signed yet`);
      const redo = await restamp(ctx, id, [signer]);
      return redo ? todo(redo) : done();
    },
    async apply(ctx) {
      if (!signer) {
        if (!(await tagExists({ repository, tag }))) await buildAndPush(ctx, ref, ref);
        return;
      }
      // The digest the push produced is signed, never one a server merely reports.
      await sign(ctx, repository, await ensurePushed(ctx, ref, ref), signer);
      await stamp(ctx, id, [signer]);
    },
  };
}

/** Case 15: an image signed by each of several keys, as two teams would sign one release. */
export function imageSignedByEachStep(id: string, ref: string, signers: Signer[]): Step {
  const { repository, tag } = splitTag(ref);
  return {
    id,
    title: `${ref} signed by each of ${signers.map((s) => `the ${signerLabel(s)}`).join(' and ')}`,
    async check(ctx) {
      const digest = await manifestDigest(repository, tag).catch(() => undefined);
      if (!digest) return todo(`${ref} is not in the registry`);
      const count = await signatureCount(repository, digest);
      if (count < signers.length) return todo(`${count} of ${signers.length} signatures`);
      const redo = await restamp(ctx, id, signers);
      return redo ? todo(redo) : done(`${count} signatures`);
    },
    async apply(ctx) {
      const digest = await ensurePushed(ctx, ref, ref);
      for (const s of signers) await sign(ctx, repository, digest, s);
      await stamp(ctx, id, signers);
    },
  };
}

/** Case 4: sign the tag's content, then push other content under the same tag. */
export function movedTagStep(id: string, ref: string, signer: Signer): Step {
  const { repository, tag } = splitTag(ref);
  const record = (ctx: Context): string => path.join(statePaths(ctx.stateDir).matrixDir, `${id}.json`);
  return {
    id,
    title: `${ref} signed, then moved to other content`,
    async check(ctx) {
      const signedDigest = await fs.readFile(record(ctx), 'utf8').then((t) => JSON.parse(t).signedDigest as string, () => undefined);
      const now = await manifestDigest(repository, tag).catch(() => undefined);
      if (!signedDigest || !now) return todo('not prepared');
      if (now === signedDigest) return todo('the tag still points at the signed content');
      if (!(await isSigned(repository, signedDigest, signer.format))) return todo('the first content is not signed');
      const redo = await restamp(ctx, id, [signer]);
      return redo ? todo(redo) : done(`signed ${signedDigest.slice(0, 19)}…, now ${now.slice(0, 19)}…`);
    },
    async apply(ctx) {
      const signedDigest = await buildAndPush(ctx, ref, `${ref} before the move`);
      await sign(ctx, repository, signedDigest, signer);
      await buildAndPush(ctx, ref, `${ref} after the move`);
      await stamp(ctx, id, [signer]);
      await ctx.state.write(record(ctx), JSON.stringify({ signedDigest }) + '\n');
    },
  };
}

/** Case 5: the signed image and its signature copied, as they are, into another repository. */
export function copiedStep(id: string, from: string, to: string): Step {
  const dst = splitTag(to);
  // The signature copied is the one sign-image made with the trusted key.
  const source: Signer = { key: 'trusted', cosign: cosignBinary(), format: 'legacy' };
  return {
    id,
    title: `${from} and its signature copied to ${to}`,
    async check(ctx) {
      const digest = await manifestDigest(dst.repository, dst.tag).catch(() => undefined);
      if (!digest || !(await isSigned(dst.repository, digest, 'legacy'))) return todo(`${to} or its copied signature is missing`);
      const redo = await restamp(ctx, id, [source]);
      return redo ? todo(redo) : done();
    },
    async apply(ctx) {
      // cosign copy moves the image and its signature manifest byte for byte.
      await must(ctx.runner, { file: cosignBinary(), args: ['copy', '--force', from, to], timeoutMs: 120_000 });
      await stamp(ctx, id, [source]);
    },
  };
}

/** Case 13: a two-platform index whose platform images are built here; signed at the index only, or recursively. */
export function indexStep(id: string, ref: string, signer: Signer): Step {
  const { repository, tag } = splitTag(ref);
  const platforms = [
    { os: 'linux', architecture: 'amd64', tag: `${tag}-amd64` },
    { os: 'linux', architecture: 'arm64', tag: `${tag}-arm64` },
  ];
  return {
    id,
    title: `${ref}: a two-platform index signed ${signer.recursive ? 'recursively' : 'at the index digest only'}`,
    async check(ctx) {
      const digest = await manifestDigest(repository, tag).catch(() => undefined);
      if (!digest) return todo(`${ref} is not in the registry`);
      if (!(await isSigned(repository, digest, signer.format))) return todo('the index is not signed');
      if (signer.recursive) {
        const amd64 = await manifestDigest(repository, platforms[0].tag).catch(() => undefined);
        if (!amd64 || !(await isSigned(repository, amd64, signer.format))) return todo('the platform image is not signed');
      }
      const redo = await restamp(ctx, id, [signer]);
      return redo ? todo(redo) : done();
    },
    async apply(ctx) {
      const entries = [];
      for (const p of platforms) {
        const platformRef = `${repository}:${p.tag}`;
        const digest = await ensurePushed(ctx, platformRef, platformRef);
        entries.push({ digest, platform: { os: p.os, architecture: p.architecture } });
      }
      ctx.recorder.http('PUT', manifestUrl(repository, tag), 'a manifest list of the two platform images');
      const digest = ctx.opts.dryRun ? 'sha256:<index-digest>' : await putIndex(repository, tag, entries);
      await sign(ctx, repository, digest, signer);
      await stamp(ctx, id, [signer]);
    },
  };
}
