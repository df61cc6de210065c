import type { Context } from '../core/context.js';
import { ok } from '../core/command.js';
import { crioSocket } from '../crio/crictl.js';
import { registryAddress } from '../core/settings.js';
import { statePaths } from '../core/state.js';
import type { ServiceSpec } from './types.js';

/** CRI-O answers when crictl gets a version over its socket. */
export function crioService(_ctx: Context): ServiceSpec {
  return {
    name: 'crio',
    unit: 'crio.service',
    argv: ['crio'],
    readyTimeoutMs: 90_000,
    ready: async (ctx) =>
      ok(
        await ctx.probe.run({
          file: 'crictl',
          args: ['--runtime-endpoint', `unix://${await crioSocket(ctx)}`, '--timeout', '2s', 'version'],
          privileged: true,
          readOnly: true,
          timeoutMs: 5_000,
        }),
      ),
  };
}

export function dockerService(_ctx: Context): ServiceSpec {
  return {
    name: 'dockerd',
    unit: 'docker.service',
    argv: ['dockerd'],
    readyTimeoutMs: 60_000,
    ready: async (ctx) => ok(await ctx.probe.run({ file: 'docker', args: ['info', '--format', '{{.ServerVersion}}'], privileged: true, readOnly: true, timeoutMs: 10_000 })),
  };
}

/** The distribution registry binary, bound to loopback by the config the registry step writes. */
export function registryService(ctx: Context): ServiceSpec {
  return {
    name: 'registry',
    unit: 'crio-sigpoc-registry.service',
    argv: ['docker-registry', 'serve', statePaths(ctx.stateDir).registryConfig],
    readyTimeoutMs: 30_000,
    ready: registryAnswers,
  };
}

/** Ready only when /v2/ answers, as the distribution API defines. */
export async function registryAnswers(): Promise<boolean> {
  try {
    const r = await fetch(`http://${registryAddress}/v2/`, { signal: AbortSignal.timeout(2_000) });
    return r.status === 200;
  } catch {
    return false;
  }
}
