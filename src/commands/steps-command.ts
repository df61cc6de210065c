// The shape of a subcommand that is only a chain of steps.
import type { Context, GlobalOptions } from '../core/context.js';
import type { Step } from '../core/step.js';
import { runSteps } from '../core/run-steps.js';
import { planText } from '../core/plan-text.js';
import { runCommand } from './run-command.js';

export function stepsCommand(name: string, build: (ctx: Context) => Promise<Step[]>, before?: (ctx: Context) => Promise<void>) {
  return (opts: GlobalOptions): Promise<number> =>
    runCommand(name, opts, async (ctx) => {
      await before?.(ctx);
      const reports = await runSteps(ctx, await build(ctx));
      if (!opts.json) process.stdout.write(planText(reports, opts.dryRun));
      return { exitCode: 0, json: { dryRun: opts.dryRun, steps: reports } };
    });
}
