// CRI-O and dockerd running and answering: enabled and started by systemd on a VM, started and
// supervised by the tool where PID 1 is not systemd.
import type { Context } from '../core/context.js';
import type { Step } from '../core/step.js';
import { done, drift, todo } from '../core/step.js';
import type { Host } from '../core/host.js';
import { crioService, dockerService, serviceManager } from './index.js';
import { supervisor } from './supervisor.js';
import { systemd } from './systemd.js';
import type { ServiceManager, ServiceSpec } from './types.js';

/** The step that restarts CRI-O: the steps that change what it reads (its drop-in, its binary) notify it. */
export const CRIO_SERVICE_STEP = 'crio-service';

/** Under --root the target tree's PID 1 decides (a VM plan printed on another machine). */
function managerFor(ctx: Context, host: Host): Promise<ServiceManager> {
  if (ctx.opts.root === '/') return serviceManager(ctx);
  return Promise.resolve(host.systemd ? systemd : supervisor);
}

function serviceStep(id: string, title: string, specOf: (ctx: Context) => ServiceSpec, host: Host): Step {
  return {
    id,
    title,
    async check(ctx) {
      const st = await (await managerFor(ctx, host)).state(ctx, specOf(ctx));
      // Answering is what counts (start() asks the same): a service started by other means is fine.
      if (st.ready) return done(`${st.mode}: ${st.detail}`);
      return st.running ? drift(`${st.name} runs but does not answer (${st.detail})`) : todo(`${st.name} is not running (${st.detail})`);
    },
    async apply(ctx) {
      const mgr = await managerFor(ctx, host);
      const spec = specOf(ctx);
      if ((await mgr.state(ctx, spec)).running) await mgr.restart(ctx, spec);
      else await mgr.start(ctx, spec);
    },
  };
}

export const crioServiceStep = (host: Host): Step =>
  serviceStep(CRIO_SERVICE_STEP, `CRI-O running (${host.systemd ? 'systemctl enable --now crio' : 'supervised by crio-sigpoc'}), answering crictl version`, crioService, host);

export const dockerServiceStep = (host: Host): Step =>
  serviceStep('docker-service', `Docker engine running (${host.systemd ? 'docker.service' : 'supervised by crio-sigpoc'})`, dockerService, host);
