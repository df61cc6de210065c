import type { GlobalOptions } from '../core/context.js';
import { keysStep } from '../registry/keys.js';
import { stepsCommand } from './steps-command.js';

export default (opts: GlobalOptions & { force?: boolean }) => stepsCommand('gen-keys', async () => [keysStep({ force: opts.force })])(opts);
