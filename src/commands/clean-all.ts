import type { GlobalOptions } from '../core/context.js';
import { cleanAllSteps, confirmCleanAll } from '../verify/clean-all.js';
import { stepsCommand } from './steps-command.js';

export default (opts: GlobalOptions & { force?: boolean }) => stepsCommand('clean-all', (ctx) => cleanAllSteps(ctx, opts), (ctx) => confirmCleanAll(ctx))(opts);
