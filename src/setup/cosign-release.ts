// cosign on the VM path: the release binary from GitHub, installed only after its sha256 matches
// the release's own checksums file (cosign_checksums.txt, as goreleaser names it).
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Context } from '../core/context.js';
import type { Step } from '../core/step.js';
import { done, drift, todo } from '../core/step.js';
import { EnvironmentError } from '../core/errors.js';
import { SYSTEM_PATHS, VERSIONS } from '../core/settings.js';
import { download } from './download.js';
import { installFromFile } from './install-file.js';

export const cosignRelease = (arch: string, version: string = VERSIONS.cosign) => {
  const base = `https://github.com/sigstore/cosign/releases/download/${version}/`;
  const asset = `cosign-linux-${arch}`;
  return { version, asset, url: base + asset, checksumsUrl: `${base}cosign_checksums.txt` };
};

/** The sha256 the checksums file ("<hex>  <name>" lines) gives for one asset. */
export function expectedSha256(checksums: string, asset: string): string | undefined {
  for (const line of checksums.split('\n')) {
    const m = /^([0-9a-f]{64})\s+\*?(\S+)\s*$/i.exec(line.trim());
    if (m && m[2] === asset) return m[1].toLowerCase();
  }
  return undefined;
}

/** Throws unless the bytes are exactly what the release published. */
export function verifySha256(bytes: Buffer, checksums: string, asset: string, checksumsUrl: string): void {
  const want = expectedSha256(checksums, asset);
  if (!want) throw new EnvironmentError(`${checksumsUrl} lists no checksum for ${asset}: refusing to install it`, 'check the release page; the asset name may have changed');
  const got = createHash('sha256').update(bytes).digest('hex');
  if (got !== want)
    throw new EnvironmentError(
      `checksum mismatch for ${asset}: sha256 ${got}, but the release lists ${want}; nothing was installed`,
      'run setup again (a truncated or altered download); if it persists, do not install this file',
    );
}

export function cosignReleaseStep(arch: string): Step {
  const rel = cosignRelease(arch);
  const target = `${SYSTEM_PATHS.binDir}/cosign`;
  const cached = (ctx: Context) => {
    const dir = path.join(ctx.cacheDir, 'downloads', `cosign@${rel.version}`);
    return { verified: path.join(dir, rel.asset), sums: path.join(dir, 'cosign_checksums.txt') };
  };
  return {
    id: 'cosign',
    title: `cosign ${rel.version} from its GitHub release, checksum verified (${target})`,
    async check(ctx) {
      if (!(await ctx.files.exists(target))) return todo(`no ${target}`);
      // Never run a program of the inspected root (this runs as root): its bytes are compared with
      // the sha256 the release publishes instead of asking it for its version.
      const sums = await fs.readFile(cached(ctx).sums, 'utf8').catch(() => undefined);
      const want = sums === undefined ? undefined : expectedSha256(sums, rel.asset);
      if (!want) return todo(`${target} exists; the release's checksums (downloaded by this step) tell whether it is cosign ${rel.version}`);
      const got = createHash('sha256').update(await fs.readFile(ctx.sys(target))).digest('hex');
      return got === want ? done(`${rel.version} (sha256 as the release publishes)`) : drift(`${target} is not the cosign ${rel.version} release binary (sha256 ${got.slice(0, 12)}…)`);
    },
    async apply(ctx) {
      const { verified, sums } = cached(ctx);
      const partial = `${verified}.part`;
      await download(ctx, rel.checksumsUrl, sums);
      await download(ctx, rel.url, partial);
      if (!ctx.opts.dryRun) {
        try {
          verifySha256(await fs.readFile(partial), await fs.readFile(sums, 'utf8'), rel.asset, rel.checksumsUrl);
        } catch (e) {
          await fs.rm(partial, { force: true });
          throw e;
        }
        // Only verified bytes ever carry the asset's name.
        await fs.rename(partial, verified);
      }
      await installFromFile(ctx, target, verified, 0o755);
    },
  };
}
