// test-pods as a whole: the verdicts as kubelet reaches them on CRI-O nodes, from the pods'
// status and events, after the pods of an earlier run are gone.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CommandOutcome, Context, GlobalOptions } from '../core/context.js';
import { readCrioConfig } from '../crio/config.js';
import { EnvironmentError, UsageError } from '../core/errors.js';
import { colourWanted } from '../ui/colour.js';
import { actionsPlanText } from '../core/plan-text.js';
import { junitReport } from './junit.js';
import { verdictTable } from './table.js';
import { summarize, verdictExitCode } from './verdict.js';
import type { ClusterReach } from '../setup/kubernetes/kubectl.js';
import { apply, clusterReach, deletePods, getNodes } from '../setup/kubernetes/kubectl.js';
import { statePaths } from '../core/state.js';
import type { PodCase } from './pod-cases.js';
import { POD_CASES, perNodeCases, pinnedPod, readyNodes } from './pod-cases.js';
import { waitForPodVerdicts } from './run-pods.js';

export interface TestPodsOptions extends GlobalOptions {
  timeout?: string;
  allNodes?: boolean;
  junit?: string;
}

const WITHOUT_K8S = '`crio-sigpoc test` checks CRI-O itself without Kubernetes';

export function parseTimeout(value: string): number {
  const s = Number(value);
  if (!Number.isFinite(s) || s <= 0) throw new UsageError(`--timeout takes a number of seconds above 0, not "${value}"`, 'crio-sigpoc test-pods --timeout 120');
  return s;
}

/** What to tell a user whose kubectl reaches no ready cluster. */
export function clusterError(reach: ClusterReach): EnvironmentError | undefined {
  if (reach.reachable && reach.ready) return undefined;
  if (reach.reachable) return new EnvironmentError(`the Kubernetes API server is not ready: ${reach.detail}`, `wait for it (\`kubectl get --raw '/readyz?verbose'\` says what is missing), then run crio-sigpoc test-pods again`);
  if (!reach.installed) return new EnvironmentError('test-pods needs kubectl, which is not installed', `install kubectl and point it at a cluster whose nodes run CRI-O; ${WITHOUT_K8S}`);
  const next = /localhost:8080/.test(reach.detail)
    ? `kubectl has no kubeconfig and fell back to localhost:8080: set KUBECONFIG to your cluster's kubeconfig and check with \`kubectl get nodes\`; ${WITHOUT_K8S}`
    : /no credentials/.test(reach.detail)
      ? `add a token or client certificate for the cluster's user to your kubeconfig and check with \`kubectl get nodes\`; ${WITHOUT_K8S}`
      : `check that the cluster in your kubeconfig is up (\`kubectl get nodes\`), or set KUBECONFIG to another; ${WITHOUT_K8S}`;
  return new EnvironmentError(`no Kubernetes cluster answers: ${reach.detail}`, next);
}

async function nodesToTest(ctx: Context): Promise<string[]> {
  const nodes = readyNodes(await getNodes(ctx));
  if (!nodes.length) throw new EnvironmentError('the cluster has no Ready node to test', 'see `kubectl get nodes` and `kubectl describe node`');
  return nodes;
}

/** The pods pinned to their nodes, written as one List into the state directory for kubectl. */
async function writePinnedPods(ctx: Context, cases: PodCase[]): Promise<string> {
  const { parse } = await import('yaml');
  const manifests = new Map<string, Record<string, unknown>>();
  for (const c of POD_CASES) manifests.set(c.manifest, parse(await fs.readFile(path.join(ctx.projectDir, c.manifest), 'utf8')) as Record<string, unknown>);
  const list = { apiVersion: 'v1', kind: 'List', items: cases.map((c) => pinnedPod(manifests.get(c.manifest)!, c)) };
  const file = path.join(statePaths(ctx.stateDir).testPodsDir, 'pinned-pods.json');
  const text = JSON.stringify(list, null, 2) + '\n';
  await ctx.state.writeSecret(file, text);
  return file;
}

export async function testPods(ctx: Context, opts: TestPodsOptions): Promise<CommandOutcome> {
  const timeoutS = parseTimeout(opts.timeout ?? '120');
  const reach = await clusterReach(ctx);
  const problem = clusterError(reach);
  if (problem) throw problem;
  ctx.log.info(reach.detail);

  const cases = opts.allNodes ? perNodeCases(await nodesToTest(ctx)) : POD_CASES;
  // A fresh start: the pods of an earlier run go first, and their old status and events with them.
  await deletePods(ctx, cases.map((c) => c.pod), { wait: true });
  await apply(ctx, opts.allNodes ? [await writePinnedPods(ctx, cases)] : POD_CASES.map((c) => path.join(ctx.projectDir, c.manifest)));

  if (opts.dryRun) {
    if (!opts.json) {
      process.stdout.write(actionsPlanText(ctx.recorder.actions.map((a) => a.display), [`wait up to ${timeoutS}s for kubelet to decide on ${cases.map((c) => c.pod).join(', ')}`]));
    }
    return { exitCode: 0, json: { dryRun: true, plan: ctx.recorder.actions, pods: cases } };
  }

  ctx.log.info(`waiting up to ${timeoutS}s for kubelet to decide on ${cases.length} pods`);
  const localNode = os.hostname().toLowerCase();
  const localPolicy = (await readCrioConfig(ctx.opts.root)).effectivePolicyPath;
  const verdicts = await waitForPodVerdicts(ctx, cases, { timeoutS, policyPathFor: (node) => (node === localNode ? localPolicy : undefined) });
  if (opts.junit) await fs.writeFile(opts.junit, await junitReport(verdicts, 'crio-sigpoc test-pods'));
  if (!opts.json) process.stdout.write((await verdictTable(verdicts, { colour: colourWanted(), width: process.stdout.columns })) + '\n');
  // Pinned pods on every node of a real cluster would retry their pulls forever: remove them,
  // after the verdicts are out. The single-node pods stay for `kubectl describe`; `clean` removes them.
  if (opts.allNodes) {
    await deletePods(ctx, cases.map((c) => c.pod), { wait: false }).catch((e: Error) => ctx.log.warn(`could not remove the test pods: ${e.message}\nnext: crio-sigpoc clean`));
  }
  return { exitCode: verdictExitCode(verdicts), json: { timeoutS, allNodes: Boolean(opts.allNodes), verdicts, summary: summarize(verdicts) } };
}
