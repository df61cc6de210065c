// What `clean` undoes so that the next `test` verifies afresh: the test pods, and the test images
// in CRI-O's storage (a cached image would be let in without a new policy decision).
import type { Context } from '../core/context.js';
import { must, ok } from '../core/command.js';
import type { Step } from '../core/step.js';
import { done, todo } from '../core/step.js';
import { which } from '../core/which.js';
import { IMAGES, imageRef, LABEL } from '../core/settings.js';
import { crictl } from '../crio/crictl.js';

const TEST_IMAGES = [imageRef(IMAGES.signed), imageRef(IMAGES.unsigned)];

async function imagesInCrio(ctx: Context): Promise<string[]> {
  const present: string[] = [];
  for (const image of TEST_IMAGES) {
    const r = await ctx.probe.run({ ...(await crictl(ctx, ['inspecti', image])), readOnly: true, timeoutMs: 10_000 });
    if (ok(r)) present.push(image);
  }
  return present;
}

export function cleanImagesStep(): Step {
  return {
    id: 'clean-images',
    title: "test images removed from CRI-O's storage",
    async check(ctx) {
      const present = await imagesInCrio(ctx);
      return present.length ? todo(`still in CRI-O's storage: ${present.join(', ')}`) : done();
    },
    async apply(ctx) {
      for (const image of await imagesInCrio(ctx)) await must(ctx.runner, await crictl(ctx, ['rmi', image]));
    },
  };
}

/** Pods exist only where a cluster answers; without one there is nothing to remove. */
async function clusterAnswers(ctx: Context): Promise<boolean> {
  if (!(await which('kubectl'))) return false;
  return ok(await ctx.probe.run({ file: 'kubectl', args: ['get', '--raw', '/readyz', '--request-timeout=3s'], readOnly: true, timeoutMs: 8_000 }));
}

export function cleanPodsStep(): Step {
  const selector = `test=${LABEL}`;
  return {
    id: 'clean-pods',
    title: `test pods (${selector}) removed`,
    async check(ctx) {
      if (!(await clusterAnswers(ctx))) return done('no cluster answers');
      const r = await ctx.probe.run({ file: 'kubectl', args: ['get', 'pods', '-l', selector, '-o', 'name'], readOnly: true, timeoutMs: 15_000 });
      return r.stdout.trim() ? todo(`pods left: ${r.stdout.trim().split('\n').join(', ')}`) : done();
    },
    async apply(ctx) {
      await must(ctx.runner, { file: 'kubectl', args: ['delete', 'pods', '-l', selector, '--ignore-not-found', '--wait=true', '--timeout=60s'], timeoutMs: 90_000 });
    },
  };
}
