// Test images in the local registry. The two of the original proof (signed, unsigned) come from
// Docker Hub's alpine when it answers; everything else, and everything offline, is built here
// from busybox-static: one layer, a marker file making each repository's digest its own.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Context } from '../core/context.js';
import { EnvironmentError } from '../core/errors.js';
import { must, ok } from '../core/command.js';
import type { Step } from '../core/step.js';
import { done, todo } from '../core/step.js';
import { IMAGES, imageRef } from '../core/settings.js';
import { manifestDigest } from './client.js';
import { pushedDigest } from './digest.js';
import { statePaths } from '../core/state.js';
import { which } from '../core/which.js';

export interface ImageRef {
  repository: string;
  tag: string;
}

/** The applets a test container needs: a shell and sleep for pods. */
const APPLETS = ['sh', 'sleep', 'echo', 'cat', 'ls', 'true'];
/** A pause process for the lab's pause image: sleeps, exits on TERM/INT (the pod's infra container). */
const PAUSE_SCRIPT = "#!/bin/sh\ntrap 'exit 0' TERM INT\nwhile :; do sleep 3600 & wait $!; done\n";

const docker = (ctx: Context, args: string[], timeoutMs = 300_000) => must(ctx.runner, { file: 'docker', args, privileged: true, timeoutMs });

export async function tagExists(ref: ImageRef): Promise<boolean> {
  return (await manifestDigest(ref.repository, ref.tag).catch(() => undefined)) !== undefined;
}

/** Splits REGISTRY/REPO:TAG at the tag's colon. */
export function splitTag(ref: string): ImageRef {
  const at = ref.lastIndexOf(':');
  return { repository: ref.slice(0, at), tag: ref.slice(at + 1) };
}

/**
 * Pushes ref from Docker's store and returns the digest the push produced (pushing again uploads
 * nothing new). That digest is what gets signed: the registry must report the same for the tag,
 * or nothing is, because a server that answers otherwise is not the one that was pushed to.
 */
export async function pushAndConfirm(ctx: Context, ref: string): Promise<string> {
  const push = await docker(ctx, ['push', ref]);
  if (ctx.opts.dryRun) return 'sha256:<digest-of-the-pushed-image>';
  const pushed = pushedDigest(push.stdout);
  if (!pushed) throw new EnvironmentError(`docker push ${ref} printed no digest, so there is no digest to sign:\n${push.stdout.trim()}`, `sudo docker push ${ref}`);
  const { repository, tag } = splitTag(ref);
  const served = await manifestDigest(repository, tag);
  if (served !== pushed) throw new EnvironmentError(`the registry reports ${served ?? 'no manifest'} for ${ref}, but the push produced ${pushed}: not signing`, `sudo ss -ltnp 'sport = :5003' to see who serves ${ref}`);
  return pushed;
}

/** ref pushed from Docker's store, built first when Docker has no such image: the digest the push produced. */
export async function ensurePushed(ctx: Context, ref: string, marker: string): Promise<string> {
  const local = await ctx.probe.run({ file: 'docker', args: ['image', 'inspect', '--format', '{{.Id}}', ref], privileged: true, readOnly: true });
  return ok(local) ? pushAndConfirm(ctx, ref) : buildAndPush(ctx, ref, marker);
}

/** Builds a one-layer busybox image whose /etc/crio-sigpoc-image holds marker, pushes it as target, and returns the pushed digest. */
export async function buildAndPush(ctx: Context, target: string, marker: string): Promise<string> {
  const busybox = await which('busybox');
  // A dry run on a fresh machine plans the build all the same: setup installs busybox-static.
  if (!busybox && !ctx.opts.dryRun) throw new EnvironmentError('busybox is not installed, so no test image can be built offline', 'sudo apt-get install busybox-static');
  const dir = path.join(statePaths(ctx.stateDir).imageBuildDir, marker.replace(/[^\w.-]+/g, '_'));
  const rootfs = path.join(dir, 'rootfs');
  const tarball = path.join(dir, 'rootfs.tar');
  if (!ctx.opts.dryRun) {
    await fs.rm(dir, { recursive: true, force: true });
    await fs.mkdir(path.join(rootfs, 'bin'), { recursive: true });
    await fs.mkdir(path.join(rootfs, 'etc'), { recursive: true });
    await fs.copyFile(busybox!, path.join(rootfs, 'bin/busybox'));
    await fs.chmod(path.join(rootfs, 'bin/busybox'), 0o755);
    for (const applet of APPLETS) await fs.symlink('busybox', path.join(rootfs, 'bin', applet));
    await fs.writeFile(path.join(rootfs, 'pause'), PAUSE_SCRIPT, { mode: 0o755 });
    await fs.writeFile(path.join(rootfs, 'etc/crio-sigpoc-image'), `${marker}\n`);
  }
  await must(ctx.runner, { file: 'tar', args: ['--numeric-owner', '--owner=0', '--group=0', '--mtime=@0', '--sort=name', '-C', rootfs, '-cf', tarball, '.'] });
  await docker(ctx, ['import', '--change', 'CMD ["/bin/sh"]', tarball, target]);
  const digest = await pushAndConfirm(ctx, target);
  if (!ctx.opts.dryRun) await fs.rm(dir, { recursive: true, force: true });
  return digest;
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

/** The signed and unsigned images of the original proof, and the lab's pause image. */
export function imagesStep(opts: { offline?: boolean; pause?: boolean } = {}): Step {
  const wanted: { ref: ImageRef; marker: string; upstream: boolean }[] = [
    { ref: IMAGES.signed, marker: 'signed', upstream: true },
    { ref: IMAGES.unsigned, marker: 'unsigned', upstream: true },
    ...(opts.pause ? [{ ref: IMAGES.pause, marker: 'pause', upstream: false }] : []),
  ];
  return {
    id: 'images',
    title: 'test images in the local registry',
    async check() {
      const missing: string[] = [];
      for (const w of wanted) if (!(await tagExists(w.ref))) missing.push(imageRef(w.ref));
      return missing.length ? todo(`missing: ${missing.join(', ')}`) : done();
    },
    async apply(ctx) {
      const missing = [];
      for (const w of wanted) if (!(await tagExists(w.ref))) missing.push(w);
      const upstream = opts.offline || !missing.some((w) => w.upstream) ? undefined : await pullUpstream(ctx);
      for (const w of missing) {
        const target = imageRef(w.ref);
        if (upstream && w.upstream) {
          await docker(ctx, ['tag', upstream, target]);
          await docker(ctx, ['push', target]);
        } else await buildAndPush(ctx, target, w.marker);
      }
    },
  };
}
