import { promises as fs } from 'node:fs';
import { fullChain } from '../verify/chain.js';
import type { GlobalOptions } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import { runSteps } from '../core/run-steps.js';
import { colourWanted } from '../ui/colour.js';
import { junitReport } from '../verify/junit.js';
import { planText } from '../core/plan-text.js';
import { verdictTable } from '../verify/table.js';
import { summarize, verdictExitCode } from '../verify/verdict.js';
import { requireCrio } from '../services/steps.js';
import type { MatrixCase } from '../verify/matrix/cases.js';
import { MATRIX } from '../verify/matrix/cases.js';
import { addNodeAdditions, nodeAdditionsPlan, nodeAdditionsText, whileAdded } from '../verify/matrix/node.js';
import { additionsOf, preparationSteps, runMatrix } from '../verify/matrix/run.js';
import { runCommand } from './run-command.js';

export interface TestOptions extends GlobalOptions {
  offline?: boolean;
  junit?: string;
  case?: string[];
  list?: boolean;
}

export function selectCases(names: string[] | undefined): MatrixCase[] {
  if (!names?.length) return MATRIX;
  const unknown = names.filter((n) => !MATRIX.some((c) => c.name === n));
  if (unknown.length) throw new UsageError(`unknown case ${unknown.join(', ')}`, 'crio-sigpoc test --list');
  return MATRIX.filter((c) => names.includes(c.name));
}

const listText = (): string => MATRIX.map((c) => `${c.number.padEnd(4)}${c.name.padEnd(24)}${c.expected.padEnd(10)}${c.title}`).join('\n') + '\n';

export default (opts: TestOptions) =>
  runCommand(
    'test',
    opts,
    async (ctx) => {
      if (opts.list) {
        if (!opts.json) process.stdout.write(listText());
        return { exitCode: 0, json: { cases: MATRIX.map(({ number, name, title, image, expected }) => ({ number, name, title, image, expected })) } };
      }
      const cases = selectCases(opts.case);
      const [, chain] = await Promise.all([opts.dryRun ? undefined : requireCrio(ctx), fullChain(ctx, { offline: opts.offline })]);
      const steps = [...chain, ...preparationSteps(cases)];
      const reports = await runSteps(ctx, steps);
      const additions = additionsOf(cases);
      if (opts.dryRun) {
        const node = await nodeAdditionsPlan(ctx, additions);
        if (!opts.json) process.stdout.write(planText(reports, true) + nodeAdditionsText(node) + `  then, for each case: crictl rmi IMAGE, crictl pull IMAGE (${cases.length} cases)\n`);
        return { exitCode: 0, json: { dryRun: true, steps: reports, nodeAdditions: node } };
      }
      // What the cases need on the node exists only while they run, and the report is part of the run.
      return whileAdded(ctx, async () => {
        const nodeAdditions = await addNodeAdditions(ctx, additions);
        const verdicts = await runMatrix(ctx, cases);
        if (opts.junit) await fs.writeFile(opts.junit, await junitReport(verdicts, 'crio-sigpoc test'));
        if (!opts.json) process.stdout.write((await verdictTable(verdicts, { colour: colourWanted(), width: process.stdout.columns })) + '\n');
        return { exitCode: verdictExitCode(verdicts), json: { steps: reports, nodeAdditions, verdicts, summary: summarize(verdicts) } };
      });
    },
    { lock: !opts.dryRun && !opts.list },
  );
