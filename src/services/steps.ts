// Steps that make sure a service the chain needs is up (no-ops when it already answers).
import type { Context } from '../core/context.js';
import { EnvironmentError } from '../core/errors.js';
import type { Step } from '../core/step.js';
import { done, todo } from '../core/step.js';
import { which } from '../core/which.js';
import { crioService, dockerService, serviceManager } from './index.js';
import { crioSocket } from '../crio/crictl.js';
import { crictl } from '../crio/crictl.js';
import { isSystemdHost } from './index.js';

export function dockerStep(): Step {
  return {
    id: 'docker',
    title: 'Docker engine',
    async check(ctx) {
      return (await dockerService(ctx).ready(ctx)) ? done() : todo('the Docker engine does not answer');
    },
    async apply(ctx) {
      // Under --dry-run on a fresh VM, setup's earlier steps would have installed it.
      if (!ctx.opts.dryRun && !(await which('dockerd'))) throw new EnvironmentError('the Docker engine (dockerd) is not installed', await setupHint());
      await (await serviceManager(ctx)).start(ctx, dockerService(ctx));
    },
  };
}

export async function setupHint(): Promise<string> {
  return (await isSystemdHost()) ? 'sudo crio-sigpoc setup' : 'sudo crio-sigpoc setup --from source';
}

/** CRI-O reads registries.conf at start and on SIGHUP: a running CRI-O is told of a change. */
export async function reloadCrioIfRunning(ctx: Context): Promise<void> {
  if (ctx.opts.root !== '/') return;
  const crio = crioService(ctx);
  const mgr = await serviceManager(ctx);
  if ((await mgr.state(ctx, crio)).ready) await mgr.reload(ctx, crio);
}

/** Verdicts mean nothing without CRI-O: stop early with the command that brings it up. */
export async function requireCrio(ctx: Context): Promise<void> {
  const r = await ctx.probe.run({ ...(await crictl(ctx, ['--timeout', '3s', 'version'])), readOnly: true, timeoutMs: 10_000 });
  if (r.exitCode !== 0) {
    const why = (r.stderr || r.stdout).trim().split('\n').pop() ?? '';
    throw new EnvironmentError(`CRI-O is not reachable on unix://${await crioSocket(ctx)}${why ? `: ${why}` : ''}`, `${await setupHint()}   (then: crio-sigpoc status)`);
  }
}
