// A candidate policy is tried in a namespace of its own: CRI-O applies
// <signature_policy_dir>/<namespace>.json to pulls whose sandbox config names that namespace, so no
// other workload's enforcement changes. The file exists only while the run does (removed on exit,
// error and signals; `clean` removes one a SIGKILL left). Its name is random, so no pod can be
// created in it on purpose while it exists.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Context } from '../../core/context.js';
import { withUndo } from '../../core/interrupt.js';
import type { Step } from '../../core/step.js';
import { done, todo } from '../../core/step.js';
import { readCrioConfig } from '../../crio/config.js';

const PREFIX = 'crio-sigpoc-verify-';
const SCRATCH_FILE = new RegExp(`^${PREFIX}[0-9a-f]{16}\\.json$`);

const policyDir = async (ctx: Context): Promise<string> => (await readCrioConfig(ctx.opts.root)).signaturePolicyDir.value;

/** Runs `work` with the candidate installed as the policy of a fresh namespace, then removes it. */
export async function withScratchNamespace<T>(ctx: Context, policy: string, work: (namespace: string, file: string) => Promise<T>): Promise<T> {
  const namespace = PREFIX + randomBytes(8).toString('hex');
  const file = path.join(await policyDir(ctx), `${namespace}.json`);
  return withUndo(
    async () => {
      await ctx.files.install(file, policy, 0o644);
      return work(namespace, file);
    },
    async () => void (await ctx.files.remove(file)),
    `${file} may be left on the node: crio-sigpoc clean removes it`,
  );
}

async function leftovers(ctx: Context): Promise<string[]> {
  const dir = await policyDir(ctx);
  const names = await fs.readdir(ctx.sys(dir)).catch(() => [] as string[]);
  return names.filter((n) => SCRATCH_FILE.test(n)).map((n) => path.join(dir, n));
}

/** For `clean`: scratch namespace policies that a killed verify or audit left behind. */
export function scratchLeftoversStep(): Step {
  return {
    id: 'verify-scratch-leftovers',
    title: 'scratch namespace policies of verify and audit removed',
    async check(ctx) {
      const left = await leftovers(ctx);
      return left.length ? todo(`left by an interrupted run: ${left.join(', ')}`) : done();
    },
    async apply(ctx) {
      for (const f of await leftovers(ctx)) await ctx.files.remove(f);
    },
  };
}
