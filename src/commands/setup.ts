// `setup`: wires its options to the setup of the machine (setup/machine.ts).
import { UsageError } from '../core/errors.js';
import type { SetupOptions } from '../setup/machine.js';
import { setupMachine } from '../setup/machine.js';
import { runCommand } from './run-command.js';

/** --root redirects files, not apt-get or services: outside the real root, setup only plans. */
function onlyPlansUnderRoot(opts: SetupOptions): void {
  if (opts.root !== '/' && !opts.dryRun) throw new UsageError(`setup installs packages and starts services on this machine, which --root ${opts.root} cannot redirect`, 'add --dry-run to print the plan for that tree');
}

export default (opts: SetupOptions): Promise<number> =>
  runCommand('setup', opts, (ctx) => {
    onlyPlansUnderRoot(opts);
    return setupMachine(ctx, opts);
  });
