// The OCI runtime of the lab's CRI-O when it runs pods. Debian 12's crun 1.8.1 refuses every
// container CRI-O 1.36 creates ("unknown version specified": it accepts only runtime-spec 1.0.x,
// CRI-O writes 1.2+); Debian's runc 1.1 takes them. The verdict matrix never starts a container,
// kubelet does. CRI-O's packages bring a crun of their own, so the VM path needs none of this.
import { stringify } from 'smol-toml';
import type { Step } from '../../engine/step.js';
import { done, drift, todo } from '../../engine/step.js';

/** Sorts before 99-crio-sigpoc.conf, which sets no runtime. */
export const RUNTIME_DROPIN = '/etc/crio/crio.conf.d/99-crio-sigpoc-runtime.conf';

export function renderRuntimeDropin(): string {
  const doc = { crio: { runtime: { default_runtime: 'runc', runtimes: { runc: { runtime_path: '/usr/bin/runc', runtime_type: 'oci', runtime_root: '/run/runc' } } } } };
  return '# Written by crio-sigpoc (setup --with-kubernetes); clean-all removes it.\n' + stringify(doc) + '\n';
}

export function labRuntimeStep(onChanged: () => void): Step {
  return {
    id: 'crio-runtime',
    title: `CRI-O runs containers with Debian's runc (${RUNTIME_DROPIN})`,
    async check(ctx) {
      if (await ctx.files.matches(RUNTIME_DROPIN, renderRuntimeDropin())) return done();
      return (await ctx.files.exists(RUNTIME_DROPIN)) ? drift(`${RUNTIME_DROPIN} differs from the rendered settings`) : todo(`no ${RUNTIME_DROPIN}`);
    },
    async apply(ctx) {
      if ((await ctx.files.install(RUNTIME_DROPIN, renderRuntimeDropin(), 0o644)) === 'written') onChanged();
    },
  };
}
