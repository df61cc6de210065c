import type { GlobalOptions } from '../core/context.js';
import { cleanImagesStep, cleanPodsStep } from '../verify/clean.js';
import { nodeLeftoversStep } from '../verify/matrix/node.js';
import { scratchLeftoversStep } from '../verify/own/scratch-namespace.js';
import { requireCrio } from '../services/steps.js';
import { stepsCommand } from './steps-command.js';

export default (opts: GlobalOptions) =>
  stepsCommand('clean', async () => [nodeLeftoversStep(), scratchLeftoversStep(), cleanPodsStep(), cleanImagesStep()], async (ctx) => {
    if (!opts.dryRun) await requireCrio(ctx);
  })(opts);
