// The cluster test-pods would use: the kubeconfig kubectl reads, the nodes and whether they are
// Ready, and the lab cluster's own programs when setup --with-kubernetes started them.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Context } from '../core/context.js';
import type { RunResult } from '../core/command.js';
import { kubePaths } from '../setup/kubernetes/layout.js';
import { nodeReadiness } from '../setup/kubernetes/node.js';
import { KUBERNETES_SERVICES } from '../setup/kubernetes/specs.js';
import { pidFile } from '../services/supervisor.js';
import type { KubeNode } from '../setup/kubernetes/kubectl.js';
import { kubectlError } from '../setup/kubernetes/kubectl.js';
import type { Check } from './check.js';
import { check, notInstalled } from './check.js';

export interface KubernetesFacts {
  /** The file kubectl reads: $KUBECONFIG, else ~/.kube/config. */
  kubeconfig: string;
  kubeconfigExists: boolean;
  /** setup --with-kubernetes made a cluster here (its state directory exists). */
  setUpHere: boolean;
  /** Lab programs with a pid file (the tool started them). */
  supervised: string[];
  /** `kubectl get nodes -o json`. */
  nodes: RunResult;
}

const TITLE = 'Kubernetes cluster';
const SETUP = 'sudo crio-sigpoc setup --from source --with-kubernetes  (a VM with internet: setup --with-kubernetes)';

export function kubernetesCheck(f: KubernetesFacts): Check {
  const where = `kubeconfig ${f.kubeconfig}${f.kubeconfigExists ? '' : ' (absent)'}`;
  const lab = f.supervised.length ? `; supervised: ${f.supervised.join(', ')}` : '';
  if (notInstalled(f.nodes)) return check('kubernetes', TITLE, f.setUpHere ? 'problem' : 'warning', `kubectl is not installed, so no cluster was asked (${where})`, { fix: 'install kubectl (Kubernetes community repository, same minor as CRI-O)' });
  if (f.nodes.exitCode !== 0 || f.nodes.timedOut) {
    const why = f.nodes.timedOut ? 'no answer within 3s' : kubectlError(f.nodes);
    // Without a cluster of the tool's making, only test-pods misses it.
    if (!f.setUpHere) return check('kubernetes', TITLE, 'warning', `no cluster answers (${why}); test-pods needs one (${where})`, { fix: SETUP });
    return check('kubernetes', TITLE, 'problem', `the cluster setup made does not answer: ${why} (${where}${lab})`, { fix: SETUP });
  }
  let nodes: KubeNode[] = [];
  try {
    nodes = (JSON.parse(f.nodes.stdout) as { items: KubeNode[] }).items;
  } catch {
    return check('kubernetes', TITLE, 'problem', `kubectl get nodes printed no JSON (${where})`);
  }
  const states = nodes.map(nodeReadiness);
  const notReady = states.filter((s) => !s.ready);
  const detail = `${states.map((s) => s.detail).join('; ') || 'no node registered'} (${where}${lab})`;
  return check('kubernetes', TITLE, nodes.length && !notReady.length ? 'ok' : 'problem', detail, { fix: SETUP });
}

export async function kubernetesFacts(ctx: Context): Promise<KubernetesFacts> {
  const kubeconfig = process.env.KUBECONFIG || path.join(os.homedir(), '.kube', 'config');
  const exists = (p: string) => fs.access(p).then(() => true, () => false);
  const [kubeconfigExists, setUpHere, nodes, supervised] = await Promise.all([
    exists(kubeconfig),
    exists(kubePaths(ctx.stateDir).dir),
    ctx.probe.run({ file: 'kubectl', args: ['get', 'nodes', '-o', 'json', '--request-timeout=3s'], readOnly: true, timeoutMs: 5_000 }),
    Promise.all(KUBERNETES_SERVICES.map(async (s) => ((await exists(pidFile(ctx, s.name))) ? s.name : undefined))),
  ]);
  return { kubeconfig, kubeconfigExists, setUpHere, nodes, supervised: supervised.filter((s): s is string => Boolean(s)) };
}
