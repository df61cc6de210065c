import type { GlobalOptions } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import { policyStep } from '../policy/install.js';
import { keyRotationStep, retireOldKeyStep } from '../registry/key-rotation.js';
import { keysStep } from '../registry/keys.js';
import { stepsCommand } from './steps-command.js';

interface GenKeysOptions extends GlobalOptions {
  force?: boolean;
  rotate?: boolean;
  retireOld?: boolean;
}

// A rotation changes what the node trusts at once: the policy follows the keys in the same run.
export default (opts: GenKeysOptions) =>
  stepsCommand('gen-keys', async () => {
    if ([opts.force, opts.rotate, opts.retireOld].filter(Boolean).length > 1) throw new UsageError('--force, --rotate and --retire-old exclude each other', 'crio-sigpoc gen-keys --rotate, then (once everything is signed with the new key) crio-sigpoc gen-keys --retire-old');
    if (opts.rotate) return [keyRotationStep(), policyStep()];
    if (opts.retireOld) return [retireOldKeyStep(), policyStep()];
    return [keysStep({ force: opts.force })];
  })(opts);
