// setup as a whole: refuse an unsupported host, confirm the machine is a dedicated VM, run the
// steps for packages (a VM with internet) or a build from Go modules (the lab), then say whether
// a reboot is needed and, with Kubernetes, where kubectl finds the cluster.
import type { CommandOutcome, Context, GlobalOptions } from '../core/context.js';
import { runSteps } from '../core/run-steps.js';
import type { Step } from '../core/step.js';
import { EnvironmentError, UsageError } from '../core/errors.js';
import type { Host } from '../core/host.js';
import { describeHost, hostOf, isSupported, SUPPORTED } from '../core/host.js';
import { planText } from '../core/plan-text.js';
import type { Confirmation } from '../ui/confirm.js';
import { terminalConfirmation } from '../ui/confirm.js';
import { ROOT_KUBECONFIG } from './kubernetes/layout.js';
import type { SetupSource } from './index.js';
import { setupSteps } from './index.js';

export interface SetupOptions extends GlobalOptions {
  from?: string;
  force?: boolean;
  withKubernetes?: boolean;
}

const REBOOT_FLAG = '/var/run/reboot-required';

export interface RebootAdvice {
  needed: boolean;
  why: string;
}

/** Debian and Ubuntu packages that need a reboot (a kernel, a libc) leave this flag behind. */
export async function rebootAdvice(ctx: Context): Promise<RebootAdvice> {
  if (await ctx.files.exists(REBOOT_FLAG)) {
    const pkgs = [...new Set(((await ctx.files.read(`${REBOOT_FLAG}.pkgs`)) ?? '').split('\n').filter(Boolean))];
    return { needed: true, why: `${REBOOT_FLAG} exists${pkgs.length ? ` (asked for by ${pkgs.join(', ')})` : ''}: what was installed takes effect only after a reboot` };
  }
  return {
    needed: false,
    why: ctx.opts.dryRun ? `nothing asks for one now (${REBOOT_FLAG} is absent); setup looks again after installing` : `nothing asks for one (${REBOOT_FLAG} is absent) and CRI-O already runs with this configuration`,
  };
}

/** Where kubectl finds the cluster, and what makes the pods' images exist. */
const clusterNote = (kubeconfig: string): string =>
  [
    `Kubernetes: kubectl as root uses ${kubeconfig} (another shell: export KUBECONFIG=${kubeconfig}).`,
    'next: crio-sigpoc test --offline   (pushes the pause and test images, installs the policy), then crio-sigpoc test-pods',
  ].join('\n');

function parseSource(from: string | undefined): SetupSource {
  if (from === undefined || from === 'packages' || from === 'source') return from ?? 'packages';
  throw new UsageError(`--from must be packages or source, not ${from}`);
}

function refuseUnsupported(ctx: Context, host: Host, force: boolean): void {
  if (isSupported(host)) return;
  const names = SUPPORTED.map((s) => s.name).join(' or ');
  if (!force) throw new EnvironmentError(`setup supports ${names}; this is ${host.prettyName}`, `run it on ${names}, or pass --force to try anyway`);
  ctx.log.warn(`warning: ${host.prettyName} is not ${names}; going on because of --force`);
}

/** setup changes a whole machine: a person says yes, or the caller passed --yes. */
async function confirmDedicatedVm(ctx: Context, steps: Step[], io: Confirmation): Promise<void> {
  if (ctx.opts.yes) return;
  if (!io.tty) throw new UsageError('setup changes this machine and needs a confirmation, but there is no terminal to ask on', 'pass --yes to confirm that this is a dedicated VM');
  ctx.log.info(['setup installs packages and changes system files. It may change:', ...steps.map((s) => `  - ${s.title}`)].join('\n'));
  if (!(await io.confirm('Is this a dedicated VM (not your workstation) where these changes are fine?'))) {
    throw new UsageError('setup was not confirmed; nothing was changed', 'run it on a dedicated VM, or pass --yes');
  }
}

export async function setupMachine(ctx: Context, opts: SetupOptions, io: Confirmation = terminalConfirmation): Promise<CommandOutcome> {
  const from = parseSource(opts.from);
  const host = await hostOf(ctx);
  refuseUnsupported(ctx, host, Boolean(opts.force));
  ctx.log.info(`setup --from ${from} on ${describeHost(host)}`);
  const steps = setupSteps(host, from, { kubernetes: Boolean(opts.withKubernetes) });
  // --dry-run changes nothing, so it asks nothing and needs no root.
  if (!ctx.opts.dryRun) await confirmDedicatedVm(ctx, steps, io);
  const reports = await runSteps(ctx, steps);
  const reboot = await rebootAdvice(ctx);
  const kubeconfig = opts.withKubernetes ? ROOT_KUBECONFIG : undefined;
  if (!ctx.opts.json) {
    process.stdout.write(planText(reports, ctx.opts.dryRun));
    process.stdout.write(`Reboot: ${reboot.needed ? 'needed' : 'not needed'}: ${reboot.why}${reboot.needed ? '\nnext: sudo reboot, then crio-sigpoc test' : ''}\n`);
    if (kubeconfig) process.stdout.write(`${clusterNote(kubeconfig)}\n`);
  }
  return { exitCode: 0, json: { from, host, dryRun: ctx.opts.dryRun, steps: reports, reboot, ...(kubeconfig ? { kubeconfig } : {}) } };
}

