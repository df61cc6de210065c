// A bridge network for pod sandboxes on the lab path (CRI-O starts and pulls without one; pods
// need it). Debian's plugins live in /usr/lib/cni, which the drop-in adds to plugin_dirs.
import type { Step } from '../core/step.js';
import { done, drift, todo } from '../core/step.js';
import { SYSTEM_PATHS } from '../core/settings.js';

export const CNI_PLUGIN_DIRS = ['/usr/lib/cni'];
export const CNI_SUBNET = '10.85.0.0/16';

export function renderCniConflist(): string {
  const conf = {
    cniVersion: '1.0.0',
    name: 'crio-sigpoc',
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni-sigpoc0',
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: { type: 'host-local', routes: [{ dst: '0.0.0.0/0' }], ranges: [[{ subnet: CNI_SUBNET }]] },
      },
      { type: 'loopback' },
    ],
  };
  return JSON.stringify(conf, null, 2) + '\n';
}

export function cniStep(): Step {
  const file = SYSTEM_PATHS.cniConf;
  return {
    id: 'cni',
    title: `CNI bridge network crio-sigpoc on ${CNI_SUBNET} (${file})`,
    async check(ctx) {
      if (await ctx.files.matches(file, renderCniConflist())) return done();
      return (await ctx.files.exists(file)) ? drift(`${file} differs from the rendered network`) : todo(`no ${file}`);
    },
    async apply(ctx) {
      await ctx.files.install(file, renderCniConflist(), 0o644);
    },
  };
}
