import { promises as fs } from 'node:fs';
import type { Context } from '../core/context.js';
import { supervisor } from './supervisor.js';
import { systemd } from './systemd.js';
import type { ServiceManager } from './types.js';

/** systemd when PID 1 is systemd (as on the VMs), the tool's own supervisor otherwise. */
export async function isSystemdHost(): Promise<boolean> {
  const st = await fs.stat('/run/systemd/system').catch(() => undefined);
  return Boolean(st?.isDirectory());
}

export function serviceManager(ctx: Context): Promise<ServiceManager> {
  return ctx.memo('service-manager', async () => ((await isSystemdHost()) ? systemd : supervisor));
}

export { crioService, dockerService, registryService } from './specs.js';
export type { LogMark, ServiceManager, ServiceSpec, ServiceState, ServiceMode } from './types.js';
