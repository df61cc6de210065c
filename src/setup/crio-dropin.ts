// The one CRI-O drop-in both paths write: cgroup manager matching PID 1, the pause image, and
// signature_policy set explicitly (CRI-O re-checks stored images at container creation only then).
import type { Context } from '../core/context.js';
import { readCrioConfig } from '../crio/config.js';
import type { Step } from '../core/step.js';
import { done, drift, todo } from '../core/step.js';
import type { Host } from '../core/host.js';
import type { CrioDropinSettings } from '../crio/dropin.js';
import { renderCrioDropin } from '../crio/dropin.js';
import { IMAGES, imageRef, SYSTEM_PATHS, UPSTREAM_PAUSE_IMAGE } from '../core/settings.js';
import { CNI_PLUGIN_DIRS } from './cni.js';
import { CRIO_SERVICE_STEP } from '../services/install.js';

export type SetupSource = 'packages' | 'source';

/** The packages path pulls pause from its home; the lab serves it from the local registry. */
export const PAUSE_IMAGE: Record<SetupSource, string> = {
  packages: UPSTREAM_PAUSE_IMAGE,
  source: imageRef(IMAGES.pause),
};

export const LAB_RUNTIME = { name: 'runc', path: '/usr/bin/runc', root: '/run/runc' };

export const cgroupManagerFor = (host: Pick<Host, 'systemd'>): CrioDropinSettings['cgroupManager'] => (host.systemd ? 'systemd' : 'cgroupfs');

/**
 * The policy file CRI-O would use without our drop-in: another file's signature_policy if one
 * sets it (the packages' 10-crio.conf says /etc/crio/policy.json), else /etc/crio/policy.json.
 * Pinning it keeps the file install-policy writes and the file CRI-O reads the same.
 */
export async function policyPathWithoutUs(ctx: Context): Promise<string> {
  // A file CRI-O cannot parse decides nothing here; readCrioConfig reports it (status shows it).
  const others = await readCrioConfig(ctx.opts.root, { exclude: [SYSTEM_PATHS.crioDropin] });
  return others.signaturePolicy.value || SYSTEM_PATHS.crioPolicy;
}

export async function dropinSettings(ctx: Context, host: Host, from: SetupSource): Promise<CrioDropinSettings> {
  const base: CrioDropinSettings = {
    cgroupManager: cgroupManagerFor(host),
    pauseImage: PAUSE_IMAGE[from],
    signaturePolicy: await policyPathWithoutUs(ctx),
    // CRI-O names the policy file it applies to each pull only at debug level; that line is evidence.
    logLevel: 'debug',
  };
  // Debian 12's crun 1.8 accepts only runtime-spec 1.0.x and refuses every container CRI-O 1.36
  // creates; Debian's runc takes them. CRI-O's own packages bring a crun that works.
  return from === 'packages' ? base : { ...base, storageDriver: 'overlay', cniPluginDirs: CNI_PLUGIN_DIRS, runtime: LAB_RUNTIME };
}

export function crioDropinStep(host: Host, from: SetupSource): Step {
  const file = SYSTEM_PATHS.crioDropin;
  const rendered = async (ctx: Context): Promise<string> => renderCrioDropin(await dropinSettings(ctx, host, from));
  return {
    id: 'crio-dropin',
    notifies: [CRIO_SERVICE_STEP],
    title: `CRI-O drop-in ${file} (cgroup_manager ${cgroupManagerFor(host)}, pause image, signature_policy)`,
    async check(ctx) {
      if (await ctx.files.matches(file, await rendered(ctx))) return done();
      return (await ctx.files.exists(file)) ? drift(`${file} differs from the rendered settings`) : todo(`no ${file}`);
    },
    async apply(ctx) {
      await ctx.files.install(file, await rendered(ctx), 0o644);
    },
  };
}
