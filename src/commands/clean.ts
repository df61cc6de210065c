import type { GlobalOptions } from '../context.js';
import { cleanImagesStep, cleanPodsStep } from '../steps/clean.js';
import { requireCrio } from '../steps/services.js';
import { stepsCommand } from './steps-command.js';

export default (opts: GlobalOptions) =>
  stepsCommand('clean', async () => [cleanPodsStep(), cleanImagesStep()], async (ctx) => {
    if (!opts.dryRun) await requireCrio(ctx);
  })(opts);
