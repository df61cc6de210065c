import { promises as fs } from 'node:fs';
import { fullChain } from '../chain.js';
import type { GlobalOptions } from '../context.js';
import { runSteps } from '../engine/run-steps.js';
import { colourWanted } from '../report/colour.js';
import { junitReport } from '../report/junit.js';
import { planText } from '../report/plan-text.js';
import { verdictTable } from '../report/table.js';
import { summarize, verdictExitCode } from '../report/verdict.js';
import { requireCrio } from '../steps/services.js';
import { BASE_CASES } from '../verify/cases.js';
import { runPullCases } from '../verify/run-pulls.js';
import { runCommand } from './run-command.js';

export default (opts: GlobalOptions & { offline?: boolean; junit?: string; cosign?: string }) =>
  runCommand('test', opts, async (ctx) => {
    if (!opts.dryRun) await requireCrio(ctx);
    const reports = await runSteps(ctx, await fullChain(ctx, { offline: opts.offline, cosign: opts.cosign }));
    if (opts.dryRun) {
      if (!opts.json) process.stdout.write(planText(reports, true) + `  then: crictl rmi + crictl pull for ${BASE_CASES.map((c) => c.image).join(', ')}\n`);
      return { exitCode: 0, json: { dryRun: true, steps: reports } };
    }
    const verdicts = await runPullCases(ctx, BASE_CASES);
    if (opts.junit) await fs.writeFile(opts.junit, await junitReport(verdicts, 'crio-sigpoc test'));
    if (!opts.json) process.stdout.write((await verdictTable(verdicts, { colour: colourWanted(), width: process.stdout.columns })) + '\n');
    return { exitCode: verdictExitCode(verdicts), json: { steps: reports, verdicts, summary: summarize(verdicts) } };
  });
