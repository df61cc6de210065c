// kubectl as the tool uses it: argv arrays through the context's runner, reads marked read-only
// (so --dry-run still asks the cluster), every call bounded by kubectl's own request timeout.
import type { Context } from '../../core/context.js';
import type { Command, RunResult } from '../../core/command.js';
import { CommandFailed, ok } from '../../core/command.js';

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
  metadata: { name: string; namespace?: string; uid?: string; labels?: Record<string, string>; ownerReferences?: { kind: string; name: string }[] };
  spec?: { nodeName?: string; containers?: { name: string; image: string }[]; initContainers?: { name: string; image: string }[] };
  status?: { phase?: string; reason?: string; message?: string; conditions?: Condition[]; containerStatuses?: ContainerStatus[]; initContainerStatuses?: ContainerStatus[] };
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

/**
 * Every call is bounded by kubectl's own --request-timeout, except a delete that waits: that flag
 * would cut its watch short, and its own --timeout bounds it instead.
 */
function kubectl(args: string[], opts: { readOnly: boolean; timeoutMs?: number; requestTimeout?: boolean }): Command {
  const bound = opts.requestTimeout === false ? [] : [`--request-timeout=${REQUEST_TIMEOUT_S}s`];
  return { file: 'kubectl', args: [...args, ...bound], readOnly: opts.readOnly, timeoutMs: opts.timeoutMs ?? (REQUEST_TIMEOUT_S + 5) * 1000 };
}

/** The message a person needs from kubectl's stderr: its last line that is not klog noise. */
export function kubectlError(r: RunResult): string {
  // stdout may hold the client half of a reply (`version -o json`); the reason is on stderr.
  const lines = (r.stderr.trim() ? r.stderr : r.stdout).split('\n').map((l) => l.trim()).filter(Boolean);
  const plain = lines.filter((l) => !/^[EWI]\d{4} \d\d:\d\d:\d\d/.test(l));
  return (plain.at(-1) ?? lines.at(-1) ?? (r.timedOut ? 'kubectl timed out' : `kubectl exited ${r.exitCode}`)).replace(/^error: /, '');
}

type Unreachable = Extract<ClusterReach, { reachable: false }>;

/** Reads `kubectl version -o json`: the server's version, or why no server answered. */
export function parseVersion(version: RunResult): { server: string } | Unreachable {
  if (version.exitCode === 127 || /ENOENT/.test(version.stderr)) return { reachable: false, installed: false, detail: 'kubectl is not installed' };
  // A kubeconfig user without credentials makes kubectl ask for a username, then fail with EOF.
  if (/Please enter Username/.test(version.stdout)) return { reachable: false, installed: true, detail: 'the kubeconfig gives no credentials for its cluster (kubectl asked for a username)' };
  let server: string | undefined;
  try {
    server = (JSON.parse(version.stdout) as { serverVersion?: { gitVersion?: string } }).serverVersion?.gitVersion;
  } catch {
    // kubectl printed no JSON: the error on stderr says why.
  }
  return ok(version) && server ? { server } : { reachable: false, installed: true, detail: kubectlError(version) };
}

/** A server answered; `kubectl get --raw /readyz` says whether it is ready to serve. */
export function parseReady(server: string, readyz: RunResult): ClusterReach {
  const ready = ok(readyz) && readyz.stdout.trim() === 'ok';
  return { reachable: true, ready, server, detail: ready ? `API server ${server} ready` : `API server ${server} answers but is not ready: ${kubectlError(readyz)}` };
}

export async function clusterReach(ctx: Context): Promise<ClusterReach> {
  const version = parseVersion(await ctx.runner.run(kubectl(['version', '-o', 'json'], { readOnly: true })));
  if (!('server' in version)) return version;
  return parseReady(version.server, await ctx.runner.run(kubectl(['get', '--raw', '/readyz'], { readOnly: true })));
}

async function getJson<T>(ctx: Context, args: string[]): Promise<T> {
  const cmd = kubectl([...args, '-o', 'json'], { readOnly: true });
  const r = await ctx.runner.run(cmd);
  if (!ok(r)) throw new CommandFailed(cmd, r);
  return JSON.parse(r.stdout) as T;
}

export async function apply(ctx: Context, files: string[]): Promise<void> {
  const cmd = kubectl(['apply', ...files.flatMap((f) => ['-f', f])], { readOnly: false });
  const r = await ctx.runner.run(cmd);
  if (!ok(r)) throw new CommandFailed(cmd, r);
}

/** The pods carrying a label selector, e.g. every test pod in one call however many nodes. */
export async function listPods(ctx: Context, selector: string): Promise<Pod[]> {
  return (await getJson<{ items: Pod[] }>(ctx, ['get', 'pods', '-l', selector])).items;
}

/** Every pod of every namespace. */
export async function allPods(ctx: Context): Promise<Pod[]> {
  return (await getJson<{ items: Pod[] }>(ctx, ['get', 'pods', '--all-namespaces'])).items;
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
  const timeoutS = opts.timeoutS ?? 60;
  const cmd = opts.wait
    ? kubectl(['delete', 'pod', ...names, '--ignore-not-found', '--wait=true', `--timeout=${timeoutS}s`], { readOnly: false, requestTimeout: false, timeoutMs: (timeoutS + 15) * 1000 })
    : kubectl(['delete', 'pod', ...names, '--ignore-not-found', '--wait=false'], { readOnly: false });
  const r = await ctx.runner.run(cmd);
  if (!ok(r)) throw new CommandFailed(cmd, r);
}
