// Case 17's GPG simple signing: a GnuPG home of the matrix with two signing keys (the one the
// policy trusts and another), signatures made by skopeo (Debian's skopeo signs with GPG; only
// its sigstore support is off) and put where the library looks for them: the lookaside store,
// <root>/<repository path>@sha256=<hex>/signature-1.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Context } from '../../core/context.js';
import { must } from '../../core/command.js';
import { recordStamp, restampReason } from './prepared.js';
import { statePaths } from '../../core/state.js';
import type { Step } from '../../core/step.js';
import { done, todo } from '../../core/step.js';
import { firstMissing } from '../../core/trust.js';
import { manifestBytes, manifestDigest, splitRepository } from '../../registry/client.js';
import { ensurePushed, splitTag } from '../../registry/images.js';

export type GpgIdentity = 'signer' | 'other';
const IDENTITIES: GpgIdentity[] = ['signer', 'other'];
const uid = (id: GpgIdentity): string => `crio-sigpoc matrix ${id} <gpg-${id}@crio-sigpoc.test>`;

export const gpgDir = (ctx: Context): string => statePaths(ctx.stateDir).gpgDir;
export const gpgPublicKey = (dir: string, id: GpgIdentity): string => path.join(dir, `${id}.pub`);
const fingerprintsFile = (dir: string): string => path.join(dir, 'fingerprints.json');

const gpg = (ctx: Context, home: string, args: string[]) => must(ctx.runner, { file: 'gpg', args: ['--batch', '--no-tty', ...args], env: { GNUPGHOME: home }, timeoutMs: 120_000 });
// gpg starts an agent per home; none of the tool's is left running after a step.
const stopAgent = (ctx: Context, home: string) => ctx.runner.run({ file: 'gpgconf', args: ['--kill', 'gpg-agent'], env: { GNUPGHOME: home }, timeoutMs: 10_000 });

async function fingerprints(ctx: Context): Promise<Record<GpgIdentity, string>> {
  return JSON.parse(await fs.readFile(fingerprintsFile(gpgDir(ctx)), 'utf8')) as Record<GpgIdentity, string>;
}

/** The key pairs, made in a fresh 0700 home and swapped in whole. No passphrase: the home is 0700 in the root-owned state. */
export function gpgKeysStep(): Step {
  return {
    id: 'matrix-gpg-keys',
    title: 'two GPG signing keys of the matrix (one trusted by the gpg policy, one not)',
    async check(ctx) {
      const dir = gpgDir(ctx);
      const files = [fingerprintsFile(dir), ...IDENTITIES.map((id) => gpgPublicKey(dir, id))].map((f) => ({ path: f, secret: false }));
      const missing = await firstMissing(dir, files, { log: ctx.log, dryRun: ctx.opts.dryRun });
      if (missing === dir) return todo(`no GnuPG home in ${dir}`);
      return missing ? todo(`${path.basename(missing)} is missing`) : done(dir);
    },
    async apply(ctx) {
      const dir = gpgDir(ctx);
      const make = async (home: string): Promise<Record<string, string>> => {
        const fprs: Record<string, string> = {};
        try {
          for (const id of IDENTITIES) {
            await gpg(ctx, home, ['--pinentry-mode', 'loopback', '--passphrase', '', '--quick-generate-key', uid(id), 'rsa3072', 'sign', 'never']);
            const listed = await gpg(ctx, home, ['--with-colons', '--list-secret-keys', uid(id)]);
            fprs[id] = /^fpr:+([0-9A-F]{40}):/m.exec(listed.stdout)?.[1] ?? '<fingerprint>';
            await gpg(ctx, home, ['--output', gpgPublicKey(home, id), '--export', fprs[id]]);
          }
        } finally {
          await stopAgent(ctx, home);
        }
        return fprs;
      };
      await ctx.state.replaceDir(dir, async (fresh) => ctx.state.write(fingerprintsFile(fresh), JSON.stringify(await make(fresh), null, 2) + '\n'));
    },
  };
}

/** Where the library looks for the first simple signature of repository@digest. */
export function lookasideFile(lookasideDir: string, repository: string, digest: string): string {
  const [algorithm, hex] = digest.split(':');
  return path.join(lookasideDir, `${splitRepository(repository).path}@${algorithm}=${hex}`, 'signature-1');
}

/** An image of its own in the gpg scope, signed by one of the keys (or by none), its signature in the lookaside. */
export function gpgImageStep(id: string, ref: string, signer?: GpgIdentity): Step {
  const { repository, tag } = splitTag(ref);
  return {
    id,
    title: `${ref} ${signer ? `signed with the ${signer} GPG key, its signature in the lookaside store` : 'with no signature in the lookaside store'}`,
    async check(ctx) {
      const digest = await manifestDigest(repository, tag).catch(() => undefined);
      if (!digest) return todo(`${ref} is not in the registry`);
      if (!signer) return done();
      const sig = lookasideFile(statePaths(ctx.stateDir).lookasideDir, repository, digest);
      if (!(await fs.stat(sig).catch(() => undefined))) return todo(`no signature at ${sig}`);
      const redo = await restampReason(ctx, id, await fingerprints(ctx).then((f) => `GPG key ${f[signer]}`, () => 'a GPG key not made yet'));
      return redo ? todo(redo) : done(sig);
    },
    async apply(ctx) {
      const digest = await ensurePushed(ctx, ref, ref);
      if (!signer) return;
      const home = gpgDir(ctx);
      const fpr = ctx.opts.dryRun ? `<fingerprint of the ${signer} key>` : (await fingerprints(ctx))[signer];
      const sig = lookasideFile(statePaths(ctx.stateDir).lookasideDir, repository, digest);
      const work = path.join(statePaths(ctx.stateDir).matrixDir, `.${id}-${randomBytes(4).toString('hex')}`);
      const manifest = `${work}.manifest.json`;
      if (!ctx.opts.dryRun) {
        await fs.mkdir(path.dirname(sig), { recursive: true, mode: 0o755 });
        await fs.writeFile(manifest, await manifestBytes(repository, digest));
      }
      try {
        // The signed reference is the tag pulled: the policy's default identity rule wants it exact.
        await must(ctx.runner, { file: 'skopeo', args: ['standalone-sign', '--output', `${work}.sig`, manifest, ref, fpr], env: { GNUPGHOME: home }, timeoutMs: 60_000 }).finally(() => stopAgent(ctx, home));
        if (ctx.opts.dryRun) return;
        await fs.rename(`${work}.sig`, sig);
        await recordStamp(ctx, id, `GPG key ${fpr}`);
      } finally {
        if (!ctx.opts.dryRun) await Promise.all([fs.rm(manifest, { force: true }), fs.rm(`${work}.sig`, { force: true })]);
      }
    },
  };
}
