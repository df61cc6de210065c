// --from source --with-kubernetes: the single-node cluster on the lab's CRI-O, after the builds.
// Its files, root's kubeconfig, the four supervised programs in order, and a node that is Ready.
import { promises as fs } from 'node:fs';
import type { Context } from '../../core/context.js';
import type { Step } from '../../core/step.js';
import { done, drift, notifying, todo } from '../../core/step.js';
import { EnvironmentError } from '../../core/errors.js';
import { adminGet } from './api.js';
import { apiServerUrl, kubePaths, nodeName, ROOT_KUBECONFIG } from './layout.js';
import type { KubeconfigUser } from './layout.js';
import { CONTAINER_LOG_LINKS } from './leftovers.js';
import { nodeReadiness } from './node.js';
import { renderKubeconfig, renderKubeletConfig } from './render.js';
import { KUBERNETES_SERVICES } from './specs.js';
import { logFile, supervisor } from '../../services/supervisor.js';
import type { ServiceSpec } from '../../services/types.js';
import { waitFor } from '../../services/wait.js';
import type { KubeNode } from './kubectl.js';
import { kubernetesPkiStep } from './pki.js';
import { hugetlbStep } from '../lab-runtime.js';

/** The steps that (re)start the cluster's services: what changes their certificates, files or binaries notifies them all. */
export const KUBERNETES_SERVICE_STEPS = KUBERNETES_SERVICES.map((s) => `${s.name}-service`);

export function kubeconfigFor(ctx: Context, user: KubeconfigUser): string {
  const p = kubePaths(ctx.stateDir);
  const name = user === 'kubelet' ? `kubelet-${nodeName()}` : user;
  return renderKubeconfig({ server: apiServerUrl, caFile: p.cert('ca'), certFile: p.cert(name), keyFile: p.key(name), user: name });
}

/** The cluster's own files in <state>/kubernetes, with the content each must have. */
function clusterFiles(ctx: Context): { path: string; text: string }[] {
  const p = kubePaths(ctx.stateDir);
  const users: KubeconfigUser[] = ['admin', 'scheduler', 'kubelet'];
  return [
    ...users.map((u) => ({ path: p.kubeconfig(u), text: kubeconfigFor(ctx, u) })),
    { path: p.kubeletConfig, text: renderKubeletConfig({ clientCaFile: p.cert('ca'), podLogsDir: p.podLogs }) },
  ];
}

function clusterFilesStep(): Step {
  return {
    id: 'kubernetes-config',
    notifies: KUBERNETES_SERVICE_STEPS,
    title: 'Kubernetes kubeconfigs and kubelet configuration (<state>/kubernetes)',
    async check(ctx) {
      const p = kubePaths(ctx.stateDir);
      const stale: string[] = [];
      for (const f of clusterFiles(ctx)) if ((await fs.readFile(f.path, 'utf8').catch(() => undefined)) !== f.text) stale.push(f.path);
      for (const d of [p.kineDir, p.kubeletDir, p.podLogs]) if (!(await fs.stat(d).catch(() => undefined))) stale.push(d);
      return stale.length ? todo(`to write: ${stale.join(', ')}`) : done();
    },
    async apply(ctx) {
      const p = kubePaths(ctx.stateDir);
      if (!ctx.opts.dryRun) for (const d of [p.kineDir, p.kubeletDir, p.podLogs]) await fs.mkdir(d, { recursive: true, mode: 0o700 });
      const files = clusterFiles(ctx);
      if (!(await ctx.files.exists(CONTAINER_LOG_LINKS))) files.push({ path: p.logLinksMarker, text: '' });
      for (const f of files) {
        if ((await fs.readFile(f.path, 'utf8').catch(() => undefined)) === f.text) continue;
        ctx.recorder.write(f.path, f.text, 0o600);
        if (!ctx.opts.dryRun) await fs.writeFile(f.path, f.text, { mode: 0o600 });
      }
    },
  };
}

/** kubectl's default for root; through ctx.files, so clean-all puts back what was there. */
function rootKubeconfigStep(): Step {
  const content = (ctx: Context) => kubeconfigFor(ctx, 'admin');
  return {
    id: 'kubeconfig',
    title: `kubeconfig for kubectl and test-pods (${ROOT_KUBECONFIG}, admin of the lab cluster)`,
    async check(ctx) {
      if (await ctx.files.matches(ROOT_KUBECONFIG, content(ctx), 0o600)) return done();
      return (await ctx.files.exists(ROOT_KUBECONFIG)) ? drift(`${ROOT_KUBECONFIG} is not the lab's admin kubeconfig`) : todo(`no ${ROOT_KUBECONFIG}`);
    },
    async apply(ctx) {
      await ctx.files.install(ROOT_KUBECONFIG, content(ctx), 0o600);
    },
  };
}

function serviceStep(name: string, specOf: (ctx: Context) => ServiceSpec): Step {
  return {
    id: `${name}-service`,
    title: `${name} running (supervised by crio-sigpoc, loopback only)`,
    async check(ctx) {
      const spec = specOf(ctx);
      const st = await supervisor.state(ctx, spec);
      if (st.ready) return done(st.detail);
      return st.running ? drift(`${spec.name} runs but does not answer (${st.detail})`) : todo(`${spec.name} is not running`);
    },
    async apply(ctx) {
      const spec = specOf(ctx);
      if ((await supervisor.state(ctx, spec)).running) await supervisor.restart(ctx, spec);
      else await supervisor.start(ctx, spec);
    },
  };
}

const NODE_READY_TIMEOUT_MS = 180_000;

/** Ready only when kubelet says the node is: runtime and network (CNI) ready, registered. */
export function nodeReadyStep(getNode: (ctx: Context) => Promise<KubeNode | undefined>, next: (ctx: Context) => string): Step {
  return {
    id: 'node-ready',
    title: `node ${nodeName()} Ready`,
    async check(ctx) {
      const r = nodeReadiness(await getNode(ctx));
      return r.ready ? done(r.detail) : todo(r.detail);
    },
    async apply(ctx) {
      if (ctx.opts.dryRun) return;
      let last = nodeReadiness(undefined);
      const ok = await waitFor(async () => (last = nodeReadiness(await getNode(ctx))).ready, NODE_READY_TIMEOUT_MS, undefined, 2_000);
      if (!ok) throw new EnvironmentError(`${last.detail} after ${NODE_READY_TIMEOUT_MS / 1000}s`, next(ctx));
    },
  };
}

async function labNode(ctx: Context): Promise<KubeNode | undefined> {
  const r = await adminGet(ctx.stateDir, `/api/v1/nodes/${nodeName()}`);
  return r?.status === 200 ? (JSON.parse(r.body) as KubeNode) : undefined;
}

/** After CRI-O is up: certificates, files, kubeconfig, the services in order, the node. */
export function kubernetesLabSteps(): Step[] {
  return [
    notifying(kubernetesPkiStep(), KUBERNETES_SERVICE_STEPS),
    clusterFilesStep(),
    rootKubeconfigStep(),
    notifying(hugetlbStep(), KUBERNETES_SERVICE_STEPS),
    ...KUBERNETES_SERVICES.map((s) => serviceStep(s.name, s.spec)),
    nodeReadyStep(labNode, (ctx) => `read kubelet's log ${logFile(ctx, 'kubelet')}, and \`kubectl describe node ${nodeName()}\``),
  ];
}
