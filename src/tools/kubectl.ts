// kubectl as the tool uses it: argv arrays through the context's runner, reads marked read-only
// (so --dry-run still asks the cluster), every call bounded by kubectl's own request timeout.
import type { Context } from '../context.js';
import type { Command, RunResult } from '../exec/command.js';
import { CommandFailed, ok } from '../exec/command.js';

// The parts of the Kubernetes API objects (core/v1) the verdicts read.
export interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: { exitCode?: number; reason?: string; message?: string };
}

export interface ContainerStatus {
  name: string;
  image?: string;
  imageID?: string;
  state?: ContainerState;
  lastState?: ContainerState;
  restartCount?: number;
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface Pod {
  metadata: { name: string; namespace?: string; uid?: string; labels?: Record<string, string> };
  spec?: { nodeName?: string; containers?: { name: string; image: string }[] };
  status?: { phase?: string; reason?: string; message?: string; conditions?: Condition[]; containerStatuses?: ContainerStatus[] };
}

export interface KubeEvent {
  type?: string;
  reason?: string;
  message?: string;
  involvedObject?: { kind?: string; name?: string; uid?: string; fieldPath?: string };
  lastTimestamp?: string | null;
  eventTime?: string | null;
  metadata?: { creationTimestamp?: string };
}

export interface KubeNode {
  metadata: { name: string };
  spec?: { unschedulable?: boolean };
  status?: { conditions?: Condition[] };
}

export type ClusterReach =
  | { reachable: true; ready: boolean; server: string; detail: string }
  | { reachable: false; installed: boolean; detail: string };

const REQUEST_TIMEOUT_S = 10;

function kubectl(args: string[], readOnly: boolean, timeoutMs = (REQUEST_TIMEOUT_S + 5) * 1000): Command {
  return { file: 'kubectl', args: [...args, `--request-timeout=${REQUEST_TIMEOUT_S}s`], readOnly, timeoutMs };
}

/** The message a person needs from kubectl's stderr: its last line that is not klog noise. */
export function kubectlError(r: RunResult): string {
  // stdout may hold the client half of a reply (`version -o json`); the reason is on stderr.
  const lines = (r.stderr.trim() ? r.stderr : r.stdout).split('\n').map((l) => l.trim()).filter(Boolean);
  const plain = lines.filter((l) => !/^[EWI]\d{4} \d\d:\d\d:\d\d/.test(l));
  return (plain.at(-1) ?? lines.at(-1) ?? (r.timedOut ? 'kubectl timed out' : `kubectl exited ${r.exitCode}`)).replace(/^error: /, '');
}

/** Reads `kubectl version -o json` and, once a server answered it, `kubectl get --raw /readyz`. */
export function parseReach(version: RunResult, readyz?: RunResult): ClusterReach {
  if (version.exitCode === 127 || /ENOENT/.test(version.stderr)) return { reachable: false, installed: false, detail: 'kubectl is not installed' };
  let server: string | undefined;
  try {
    server = (JSON.parse(version.stdout) as { serverVersion?: { gitVersion?: string } }).serverVersion?.gitVersion;
  } catch {
    // kubectl printed no JSON: the error on stderr says why.
  }
  // A kubeconfig user without credentials makes kubectl ask for a username, then fail with EOF.
  if (/Please enter Username/.test(version.stdout)) return { reachable: false, installed: true, detail: 'the kubeconfig gives no credentials for its cluster (kubectl asked for a username)' };
  if (!ok(version) || !server) return { reachable: false, installed: true, detail: kubectlError(version) };
  const ready = readyz !== undefined && ok(readyz) && readyz.stdout.trim() === 'ok';
  const detail = ready ? `API server ${server} ready` : `API server ${server} answers but is not ready: ${readyz ? kubectlError(readyz) : 'not asked'}`;
  return { reachable: true, ready, server, detail };
}

export async function clusterReach(ctx: Context): Promise<ClusterReach> {
  const version = await ctx.runner.run(kubectl(['version', '-o', 'json'], true));
  const first = parseReach(version);
  if (!first.reachable) return first;
  return parseReach(version, await ctx.runner.run(kubectl(['get', '--raw', '/readyz'], true)));
}

async function getJson<T>(ctx: Context, args: string[]): Promise<T> {
  const cmd = kubectl([...args, '-o', 'json'], true);
  const r = await ctx.runner.run(cmd);
  if (!ok(r)) throw new CommandFailed(cmd, r);
  return JSON.parse(r.stdout) as T;
}

export async function apply(ctx: Context, files: string[]): Promise<void> {
  const cmd = kubectl(['apply', ...files.flatMap((f) => ['-f', f])], false);
  const r = await ctx.runner.run(cmd);
  if (!ok(r)) throw new CommandFailed(cmd, r);
}

/** The pods carrying a label selector, e.g. every test pod in one call however many nodes. */
export async function listPods(ctx: Context, selector: string): Promise<Pod[]> {
  return (await getJson<{ items: Pod[] }>(ctx, ['get', 'pods', '-l', selector])).items;
}

/**
 * The Warning events about pods: pull failures and sandbox failures are all Warnings. One call per
 * poll instead of one per pod; callers match events to pods by name and uid.
 */
export async function podWarningEvents(ctx: Context): Promise<KubeEvent[]> {
  return (await getJson<{ items: KubeEvent[] }>(ctx, ['get', 'events', '--field-selector', 'involvedObject.kind=Pod,type=Warning'])).items;
}

export async function getNodes(ctx: Context): Promise<KubeNode[]> {
  return (await getJson<{ items: KubeNode[] }>(ctx, ['get', 'nodes'])).items;
}

/** Deletes pods by name; with wait, returns only once they are gone, so a new run starts fresh. */
export async function deletePods(ctx: Context, names: string[], opts: { wait: boolean; timeoutS?: number }): Promise<void> {
  if (!names.length) return;
  const waitArgs = opts.wait ? ['--wait=true', `--timeout=${opts.timeoutS ?? 60}s`] : ['--wait=false'];
  const cmd: Command = { ...kubectl(['delete', 'pod', ...names, '--ignore-not-found', ...waitArgs], false), timeoutMs: ((opts.timeoutS ?? 60) + 15) * 1000 };
  const r = await ctx.runner.run(cmd);
  if (!ok(r)) throw new CommandFailed(cmd, r);
}
