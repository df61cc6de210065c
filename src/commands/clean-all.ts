import type { GlobalOptions } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import { cleanImagesStep, cleanPodsStep } from '../verify/clean.js';
import { disableToolUnitsStep, inStateDir, removeStateStep, restoreFilesStep, stopRegistryStep, stopSupervisedStep, sudoUserStateDir } from '../setup/clean-all.js';
import { crioService, serviceManager } from '../services/index.js';
import type { Step } from '../core/step.js';
import { stepsCommand } from './steps-command.js';

/** Deleting the keys cannot be undone: ask on a TTY, require --yes elsewhere. */
async function confirmKeys(opts: GlobalOptions): Promise<void> {
  if (opts.yes || opts.dryRun) return;
  if (!process.stdin.isTTY) throw new UsageError('clean-all deletes the cosign key pair and needs a confirmation, but there is no terminal to ask on', 'crio-sigpoc clean-all --yes');
  const { confirm } = await import('@inquirer/prompts');
  const yes = await confirm({ message: 'Remove the registry and its data, the cosign key pair, and restore every system file crio-sigpoc changed?', default: false });
  if (!yes) throw new UsageError('clean-all cancelled; nothing was changed', 'crio-sigpoc clean  (removes only the test pods and images)');
}

export default (opts: GlobalOptions & { force?: boolean }) =>
  stepsCommand(
    'clean-all',
    async (ctx) => {
      // Under --root only the files of that tree and the state are touched, never live services.
      if (opts.root !== '/') return [restoreFilesStep({ force: opts.force }), removeStateStep({ keys: true })];
      const crioUp = await (await serviceManager(ctx)).state(ctx, crioService(ctx)).then((s) => s.ready, () => false);
      const steps: Step[] = [cleanPodsStep(), ...(crioUp ? [cleanImagesStep()] : [])];
      // What the user's own runs changed came after setup: put it back first.
      const user = await sudoUserStateDir(ctx);
      const users = user ? [inStateDir(restoreFilesStep({ force: opts.force }), user), inStateDir(removeStateStep({ keys: true }), user)] : [];
      return [...steps, stopRegistryStep(), stopSupervisedStep(), disableToolUnitsStep(), ...users, restoreFilesStep({ force: opts.force }), removeStateStep({ keys: true })];
    },
    () => confirmKeys(opts),
  )(opts);
