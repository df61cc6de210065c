// `test`: the chain, the preparations of the chosen cases, then the verdicts CRI-O gives them,
// with what the cases need on the node added only while they run.
import { promises as fs } from 'node:fs';
import { fullChain } from '../chain.js';
import type { CommandOutcome, Context } from '../../core/context.js';
import { runSteps } from '../../core/run-steps.js';
import { colourWanted } from '../../ui/colour.js';
import { junitReport } from '../junit.js';
import { planText } from '../../core/plan-text.js';
import { verdictTable } from '../table.js';
import { summarize, verdictExitCode } from '../verdict.js';
import { requireCrio } from '../../services/steps.js';
import type { MatrixCase } from './cases.js';
import { addNodeAdditions, nodeAdditionsPlan, nodeAdditionsText, whileAdded } from './node.js';
import { additionsOf, preparationSteps, runMatrix } from './run.js';

export async function testMatrix(ctx: Context, cases: MatrixCase[], opts: { offline?: boolean; junit?: string }): Promise<CommandOutcome> {
  const [, chain] = await Promise.all([ctx.opts.dryRun ? undefined : requireCrio(ctx), fullChain(ctx, { offline: opts.offline })]);
  const steps = [...chain, ...preparationSteps(cases)];
  const reports = await runSteps(ctx, steps);
  const additions = additionsOf(cases);
  if (ctx.opts.dryRun) {
    const node = await nodeAdditionsPlan(ctx, additions);
    if (!ctx.opts.json) process.stdout.write(planText(reports, true) + nodeAdditionsText(node) + `  then, for each case: crictl rmi IMAGE, crictl pull IMAGE (${cases.length} cases)\n`);
    return { exitCode: 0, json: { dryRun: true, steps: reports, nodeAdditions: node } };
  }
  // What the cases need on the node exists only while they run, and the report is part of the run.
  return whileAdded(ctx, async () => {
    const nodeAdditions = await addNodeAdditions(ctx, additions);
    const verdicts = await runMatrix(ctx, cases);
    if (opts.junit) await fs.writeFile(opts.junit, await junitReport(verdicts, 'crio-sigpoc test'));
    if (!ctx.opts.json) process.stdout.write((await verdictTable(verdicts, { colour: colourWanted(), width: process.stdout.columns })) + '\n');
    return { exitCode: verdictExitCode(verdicts), json: { steps: reports, nodeAdditions, verdicts, summary: summarize(verdicts) } };
  });
}
