// Puts the cached builds on PATH. Through ctx.files, so clean-all removes them (or puts back
// what was there before).
import type { Step } from '../core/step.js';
import { done, drift, notifying, todo } from '../core/step.js';
import { CRIO_SERVICE_STEP } from '../services/install.js';
import { SYSTEM_PATHS } from '../core/settings.js';
import type { Built } from './go-build.js';
import { cachedBinary, COSIGN_V2, COSIGN_V3, CRICTL, CRIO, PINNS } from './go-build.js';
import { installFromFile, sameAsSource } from './install-file.js';
import { KINE, KUBE_COMMANDS } from './kubernetes/build.js';

export interface Placement {
  built: Built;
  /** Name under /usr/local/bin. */
  as: string;
}

/** cosign v3 is `cosign`; the last v2 sits beside it so that both signing flavours can be shown. */
export const LAB_BINARIES: Placement[] = [
  { built: CRIO, as: 'crio' },
  { built: PINNS, as: 'pinns' },
  { built: CRICTL, as: 'crictl' },
  { built: COSIGN_V3, as: 'cosign' },
  { built: COSIGN_V2, as: 'cosign-v2' },
];

/** The cluster's binaries, for --with-kubernetes. */
export const KUBERNETES_BINARIES: Placement[] = [...KUBE_COMMANDS, KINE].map((b) => ({ built: b, as: b.binary }));

const target = (p: Placement): string => `${SYSTEM_PATHS.binDir}/${p.as}`;

const runsCrio = (p: Placement): boolean => p.built === CRIO || p.built === PINNS;

/** crictl and the two cosigns: programs the tool runs, nothing to restart. */
export const installToolsStep = (): Step => installStep('install-tools', LAB_BINARIES.filter((p) => !runsCrio(p)));

/** A running CRI-O keeps its old binary (and pinns path) until it restarts: the step notifies it. */
export const installCrioBinariesStep = (): Step => notifying(installStep('install-crio-binaries', LAB_BINARIES.filter(runsCrio)), [CRIO_SERVICE_STEP]);

export const installKubernetesBinariesStep = (restarts: string[]): Step => notifying(installStep('install-kubernetes-binaries', KUBERNETES_BINARIES), restarts);

function installStep(id: string, placements: Placement[]): Step {
  return {
    id,
    title: `install ${placements.map((p) => p.as).join(', ')} into ${SYSTEM_PATHS.binDir}`,
    async check(ctx) {
      const stale: string[] = [];
      const missing: string[] = [];
      for (const p of placements) {
        if (await sameAsSource(ctx, target(p), cachedBinary(ctx, p.built), 0o755)) continue;
        ((await ctx.files.exists(target(p))) ? stale : missing).push(target(p));
      }
      if (stale.length) return drift(`not the pinned build: ${stale.join(', ')}`);
      if (missing.length) return todo(`missing ${missing.join(', ')}`);
      return done();
    },
    async apply(ctx) {
      for (const p of placements) {
        await installFromFile(ctx, target(p), cachedBinary(ctx, p.built), 0o755);
      }
    },
  };
}
