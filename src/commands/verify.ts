import { promises as fs } from 'node:fs';
import type { GlobalOptions } from '../core/context.js';
import { readCrioConfig } from '../crio/config.js';
import { requireCrio } from '../services/steps.js';
import { colourWanted } from '../ui/colour.js';
import { candidatePolicy } from '../verify/own/candidate.js';
import { admissionJunit, admissionSummary, admissionTable, preloadTable } from '../verify/own/report.js';
import { admissionExitCode, askAdmission } from '../verify/own/verify.js';
import { runCommand } from './run-command.js';
import { timed } from '../core/profile.js';
import { actionsPlanText } from '../core/plan-text.js';

export interface VerifyOptions extends GlobalOptions {
  policy?: string;
  key?: string[];
  junit?: string;
}

export default (images: string[], opts: VerifyOptions) =>
  runCommand('verify', opts, async (ctx) => {
    const candidate = await timed('candidate policy', () => candidatePolicy(ctx, { policy: opts.policy, keys: opts.key, images }));
    if (opts.dryRun) {
      const dir = (await readCrioConfig(ctx.opts.root)).signaturePolicyDir.value;
      const plan = candidate
        ? [`write ${dir}/crio-sigpoc-verify-<random>.json (the candidate: ${candidate.source})`, ...images.map((i) => `crictl pull --pod-config <pod in that namespace> ${i}`), `remove ${dir}/crio-sigpoc-verify-<random>.json`]
        : images.map((i) => `crictl pull ${i}`);
      if (!opts.json) process.stdout.write(actionsPlanText(plan, ["an image that was not in CRI-O's storage before is removed again (crictl rmi)"]));
      return { exitCode: 0, json: { dryRun: true, plan, policy: candidate?.source } };
    }
    const run = await askAdmission(ctx, images, { candidate, ready: requireCrio(ctx), whilePulling: () => !opts.json && preloadTable(colourWanted()) });
    if (opts.junit) await fs.writeFile(opts.junit, await admissionJunit(run.rows, 'crio-sigpoc verify'));
    const summary = admissionSummary(run.rows);
    if (!opts.json) {
      process.stdout.write(await admissionTable(run.rows, { colour: colourWanted(), width: process.stdout.columns }));
      process.stdout.write(`${summary.admitted} admitted, ${summary.refused} refused${summary.errors ? `, ${summary.errors} not decided` : ''} (policy: ${run.policy})\n`);
    }
    return { exitCode: admissionExitCode(run.rows), json: { policy: run.policy, namespace: run.namespace, images: run.rows, summary } };
  });
