// Waits, bounded, until kubelet has decided for every test pod, and turns each pod into a verdict.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from '../core/context.js';
import type { Verdict } from './verdict.js';
import { verdict } from './verdict.js';
import { LABEL } from '../core/settings.js';
import { listPods, podWarningEvents } from '../setup/kubernetes/kubectl.js';
import type { PodCase } from './pod-cases.js';
import { classifyPod } from './pod-verdict.js';

export interface WaitOptions {
  timeoutS: number;
  pollMs?: number;
  /** The policy file CRI-O uses on a node, when the tool can know it (the local node). */
  policyPathFor(node: string | undefined): string | undefined;
}

export async function waitForPodVerdicts(ctx: Context, cases: PodCase[], opts: WaitOptions): Promise<Verdict[]> {
  const t0 = performance.now();
  const deadline = t0 + opts.timeoutS * 1000;
  const decided = new Map<string, Verdict>();
  for (;;) {
    const now = performance.now();
    const timedOut = now >= deadline;
    const [pods, events] = await Promise.all([listPods(ctx, `test=${LABEL}`), podWarningEvents(ctx)]);
    for (const c of cases) {
      if (decided.has(c.pod)) continue;
      const pod = pods.find((p) => p.metadata.name === c.pod);
      const o = classifyPod(pod, events, { timedOut, waitedS: Math.round((now - t0) / 1000) });
      if (o.actual === 'pending') continue;
      decided.set(
        c.pod,
        verdict({ name: c.name, image: c.image, expected: c.expected, actual: o.actual, reason: o.reason, node: c.node, policyPath: opts.policyPathFor(pod?.spec?.nodeName), durationMs: Math.round(now - t0) }),
      );
    }
    if (decided.size === cases.length) return cases.map((c) => decided.get(c.pod)!);
    await sleep(Math.max(0, Math.min(opts.pollMs ?? 2000, deadline - performance.now())));
  }
}
