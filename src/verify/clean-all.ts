// clean-all as a whole: the test pods and images, the registry and the supervised programs, the
// tool's systemd units, every system file put back (the sudo user's runs first), the state gone.
import type { Context } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import type { Step } from '../core/step.js';
import { crioService, serviceManager } from '../services/index.js';
import { disableToolUnitsStep, inStateDir, removeStateStep, restoreFilesStep, stopRegistryStep, stopSupervisedStep, sudoUserStateDir } from '../setup/clean-all.js';
import type { Confirmation } from '../ui/confirm.js';
import { terminalConfirmation } from '../ui/confirm.js';
import { cleanImagesStep, cleanPodsStep } from './clean.js';

export async function cleanAllSteps(ctx: Context, opts: { force?: boolean }): Promise<Step[]> {
  // Under --root only the files of that tree and the state are touched, never live services.
  if (ctx.opts.root !== '/') return [restoreFilesStep({ force: opts.force }), removeStateStep({ keys: true })];
  const crioUp = await (await serviceManager(ctx)).state(ctx, crioService(ctx)).then((s) => s.ready, () => false);
  const steps: Step[] = [cleanPodsStep(), ...(crioUp ? [cleanImagesStep()] : [])];
  // What the user's own runs changed came after setup: put it back first.
  const user = await sudoUserStateDir(ctx);
  const users = user ? [inStateDir(restoreFilesStep({ force: opts.force }), user), inStateDir(removeStateStep({ keys: true }), user)] : [];
  return [...steps, stopRegistryStep(), stopSupervisedStep(), disableToolUnitsStep(), ...users, restoreFilesStep({ force: opts.force }), removeStateStep({ keys: true })];
}

/** Deleting the keys cannot be undone: asked on a terminal, --yes elsewhere. */
export async function confirmCleanAll(ctx: Context, io: Confirmation = terminalConfirmation): Promise<void> {
  if (ctx.opts.yes || ctx.opts.dryRun) return;
  if (!io.tty) throw new UsageError('clean-all deletes the cosign key pair and needs a confirmation, but there is no terminal to ask on', 'crio-sigpoc clean-all --yes');
  if (!(await io.confirm('Remove the registry and its data, the cosign key pair, and restore every system file crio-sigpoc changed?'))) {
    throw new UsageError('clean-all cancelled; nothing was changed', 'crio-sigpoc clean  (removes only the test pods and images)');
  }
}
