// Runs each case as a kubelet would meet it: the image removed from CRI-O's storage, then pulled
// through the CRI, so CRI-O applies its policy afresh.
import type { Context } from '../context.js';
import type { Verdict } from '../report/verdict.js';
import { crioService, serviceManager } from '../service/index.js';
import { crictl } from '../tools/crictl.js';
import type { PullCase } from './cases.js';
import { classifyPull, policyPathFromLog, SIGNATURE_REASON } from './pull-verdict.js';

export function judge(c: PullCase, actual: Verdict['actual'], reason: string): boolean {
  if (actual !== c.expected) return false;
  if (c.expected === 'rejected') return reason.includes(SIGNATURE_REASON) && (!c.reason || c.reason.test(reason));
  return true;
}

export async function runPullCases(ctx: Context, cases: PullCase[]): Promise<Verdict[]> {
  const verdicts: Verdict[] = [];
  for (const c of cases) {
    const t0 = performance.now();
    await ctx.runner.run(await crictl(ctx, ['rmi', c.image]));
    const outcome = classifyPull(await ctx.runner.run(await crictl(ctx, ['pull', c.image])));
    verdicts.push({
      name: c.name,
      image: c.image,
      expected: c.expected,
      actual: outcome.actual,
      reason: outcome.reason,
      policyPath: undefined,
      durationMs: Math.round(performance.now() - t0),
      pass: judge(c, outcome.actual, outcome.reason),
    });
  }
  // One read of CRI-O's log after the pulls: which policy file each pull applied.
  const log = await (await serviceManager(ctx)).logs(ctx, crioService(ctx), 2000).catch(() => '');
  for (const v of verdicts) v.policyPath = policyPathFromLog(log, v.image);
  return verdicts;
}
