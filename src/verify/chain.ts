// The proof's chain, in order: registry, keys, test images, signature, policy. Each subcommand
// runs the slice it needs; every step is a no-op once converged.
import type { Context } from '../core/context.js';
import { readCrioConfig } from '../crio/config.js';
import { IMAGES, imageRef } from '../core/settings.js';
import type { Step } from '../core/step.js';
import { imagesStep } from '../registry/images.js';
import { keysStep } from '../registry/keys.js';
import { policyStep } from '../policy/install.js';
import type { RegistryBackend } from '../registry/registry.js';
import { chooseBackend, registrySteps } from '../registry/registry.js';
import { dockerStep } from '../services/steps.js';
import { signStep } from '../registry/sign.js';

export interface ChainOptions {
  backend?: 'auto' | RegistryBackend;
  offline?: boolean;
  userPolicy?: { file: string; text: string };
}

export async function registryChain(ctx: Context, o: ChainOptions): Promise<Step[]> {
  const needsDocker = (await chooseBackend(ctx, o.backend ?? 'auto')) === 'docker';
  return [...(needsDocker ? [dockerStep()] : []), ...(await registrySteps(ctx, o.backend))];
}

export async function signChain(ctx: Context, o: ChainOptions): Promise<Step[]> {
  const reg = await registryChain(ctx, o);
  const docker = reg.some((s) => s.id === 'docker') ? [] : [dockerStep()];
  // The lab's CRI-O takes its pause image from the local registry, so the chain puts it there.
  const pause = (await readCrioConfig(ctx.opts.root)).pauseImage.value === imageRef(IMAGES.pause);
  return [...docker, ...reg, keysStep(), imagesStep({ offline: o.offline, pause }), signStep()];
}

export async function fullChain(ctx: Context, o: ChainOptions): Promise<Step[]> {
  return [...(await signChain(ctx, o)), policyStep(o.userPolicy)];
}
