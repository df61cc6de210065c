// The test images in the local registry: the signed one and an unsigned one in another
// repository. Pulled from Docker Hub when it answers; otherwise built here from busybox-static.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Context } from '../context.js';
import { EnvironmentError } from '../errors.js';
import { must, ok } from '../exec/command.js';
import type { Step } from '../engine/step.js';
import { done, todo } from '../engine/step.js';
import { IMAGES, imageRef } from '../settings.js';
import { manifestDigest } from '../tools/registry.js';
import { statePaths } from '../state.js';
import { which } from '../exec/which.js';

export type ImageVariant = 'signed' | 'unsigned';
const VARIANTS: ImageVariant[] = ['signed', 'unsigned'];
/** The applets a test container needs: a shell and sleep for pods. */
const APPLETS = ['sh', 'sleep', 'echo', 'cat', 'ls', 'true'];

const docker = (ctx: Context, args: string[], timeoutMs = 300_000) => must(ctx.runner, { file: 'docker', args, privileged: true, timeoutMs });

async function tagExists(ref: { repository: string; tag: string }): Promise<boolean> {
  return (await manifestDigest(ref.repository, ref.tag).catch(() => undefined)) !== undefined;
}

/** A one-layer image of busybox-static, different per variant so the digests differ. */
async function buildOffline(ctx: Context, variant: ImageVariant, target: string): Promise<void> {
  const busybox = await which('busybox');
  if (!busybox) throw new EnvironmentError('busybox is not installed, so no test image can be built offline', 'sudo apt-get install busybox-static');
  const dir = path.join(statePaths(ctx.stateDir).imageBuildDir, variant);
  const rootfs = path.join(dir, 'rootfs');
  const tarball = path.join(dir, 'rootfs.tar');
  if (!ctx.opts.dryRun) {
    await fs.rm(dir, { recursive: true, force: true });
    await fs.mkdir(path.join(rootfs, 'bin'), { recursive: true });
    await fs.mkdir(path.join(rootfs, 'etc'), { recursive: true });
    await fs.copyFile(busybox, path.join(rootfs, 'bin/busybox'));
    await fs.chmod(path.join(rootfs, 'bin/busybox'), 0o755);
    for (const applet of APPLETS) await fs.symlink('busybox', path.join(rootfs, 'bin', applet));
    await fs.writeFile(path.join(rootfs, 'etc/crio-sigpoc-image'), `${variant}\n`);
  }
  await must(ctx.runner, { file: 'tar', args: ['--numeric-owner', '--owner=0', '--group=0', '--mtime=@0', '--sort=name', '-C', rootfs, '-cf', tarball, '.'] });
  await docker(ctx, ['import', '--change', 'CMD ["/bin/sh"]', tarball, target]);
}

/** Docker Hub's alpine when it can be had (it may already be local), else undefined. */
async function pullUpstream(ctx: Context): Promise<string | undefined> {
  const upstream = IMAGES.signed.upstream;
  const local = await ctx.probe.run({ file: 'docker', args: ['image', 'inspect', upstream], privileged: true, readOnly: true });
  if (ok(local)) return upstream;
  const pulled = await ctx.runner.run({ file: 'docker', args: ['pull', upstream], privileged: true, timeoutMs: 60_000 });
  if (ok(pulled) && !ctx.opts.dryRun) return upstream;
  ctx.log.info(`  Docker Hub did not give ${upstream}; building the test images from busybox-static instead`);
  return undefined;
}

export function imagesStep(opts: { offline?: boolean } = {}): Step {
  return {
    id: 'images',
    title: 'test images in the local registry',
    async check() {
      const missing: string[] = [];
      for (const v of VARIANTS) if (!(await tagExists(IMAGES[v]))) missing.push(imageRef(IMAGES[v]));
      return missing.length ? todo(`missing: ${missing.join(', ')}`) : done();
    },
    async apply(ctx) {
      const upstream = opts.offline ? undefined : await pullUpstream(ctx);
      for (const v of VARIANTS) {
        const target = imageRef(IMAGES[v]);
        if (await tagExists(IMAGES[v])) continue;
        if (upstream) await docker(ctx, ['tag', upstream, target]);
        else await buildOffline(ctx, v, target);
        await docker(ctx, ['push', target]);
      }
    },
  };
}
