// --with-kubernetes on a VM (packages path): kubelet, kubeadm and kubectl from the Kubernetes
// community repository at CRI-O's minor, IPv4 forwarding (a kubeadm preflight error otherwise),
// then `kubeadm init` on CRI-O's socket as a single node that runs ordinary pods.
import { promises as fs } from 'node:fs';
import type { Context } from '../../core/context.js';
import { must, ok } from '../../core/command.js';
import type { Step } from '../../core/step.js';
import { done, drift, todo } from '../../core/step.js';
import { EnvironmentError } from '../../core/errors.js';
import { kubePaths, nodeName, ROOT_KUBECONFIG } from './layout.js';
import { renderKubeadmConfig } from './render.js';
import type { KubeNode } from './kubectl.js';
import { aptPackagesStep } from '../apt.js';
import { installFromFile, sameAsSource } from '../install-file.js';
import { nodeReadyStep } from './lab.js';

export const ADMIN_CONF = '/etc/kubernetes/admin.conf';
export const FORWARDING_SYSCTL = '/etc/sysctl.d/99-crio-sigpoc-kubernetes.conf';
const FORWARDING = 'net.ipv4.ip_forward = 1\n';

const kubernetesPackagesStep = (pinnedMinor: string): Step =>
  aptPackagesStep(
    'kubernetes-packages',
    `packages: kubelet, kubeadm and kubectl ${pinnedMinor}x`,
    ['kubelet', 'kubeadm', 'kubectl'].map((name) => ({ name, versionPrefix: pinnedMinor })),
  );

function forwardingStep(): Step {
  return {
    id: 'ip-forwarding',
    title: `IPv4 forwarding on (${FORWARDING_SYSCTL})`,
    async check(ctx) {
      const live = (await ctx.files.read('/proc/sys/net/ipv4/ip_forward'))?.trim();
      if (!(await ctx.files.matches(FORWARDING_SYSCTL, FORWARDING))) return todo(`no ${FORWARDING_SYSCTL}`);
      return live === '1' ? done() : drift(`net.ipv4.ip_forward is ${live ?? 'unknown'}`);
    },
    async apply(ctx) {
      await ctx.files.install(FORWARDING_SYSCTL, FORWARDING, 0o644);
      await must(ctx.runner, { file: 'sysctl', args: ['-p', FORWARDING_SYSCTL], privileged: true });
    },
  };
}

const adminKubectl = (args: string[]) => ({ file: 'kubectl', args: ['--kubeconfig', ADMIN_CONF, ...args, '--request-timeout=5s'], privileged: true, readOnly: true, timeoutMs: 10_000 });

/** The control plane as kubeadm installed it: its version pins the one kubeadm deploys (no lookup online). */
async function kubeadmVersion(ctx: Context): Promise<string> {
  const r = await ctx.probe.run({ file: 'kubeadm', args: ['version', '-o', 'short'], readOnly: true, timeoutMs: 10_000 });
  if (ok(r)) return r.stdout.trim();
  if (ctx.opts.dryRun) return '<kubeadm version -o short>';
  throw new EnvironmentError(`kubeadm does not answer: ${(r.stderr || r.stdout).trim()}`, 'sudo apt-get install kubeadm (setup --with-kubernetes installs it)');
}

function kubeadmInitStep(): Step {
  return {
    id: 'kubeadm-init',
    title: 'single-node cluster: kubeadm init on CRI-O (no control-plane taint)',
    async check(ctx) {
      if (!(await ctx.files.exists(ADMIN_CONF))) return todo(`no ${ADMIN_CONF}: kubeadm init has not run`);
      const readyz = await ctx.probe.run(adminKubectl(['get', '--raw', '/readyz']));
      return ok(readyz) ? done() : drift(`${ADMIN_CONF} exists but the API server does not answer`);
    },
    async apply(ctx) {
      // kubeadm refuses to init over an earlier cluster's files: that needs a person's decision.
      if (await ctx.files.exists(ADMIN_CONF)) throw new EnvironmentError(`a cluster was initialised here (${ADMIN_CONF}) and its API server does not answer`, 'sudo kubeadm reset -f --cri-socket unix:///var/run/crio/crio.sock, then run setup --with-kubernetes again');
      const file = kubePaths(ctx.stateDir).kubeadmConfig;
      const text = renderKubeadmConfig({ kubernetesVersion: await kubeadmVersion(ctx), nodeName: nodeName() });
      ctx.recorder.write(file, text, 0o600);
      if (!ctx.opts.dryRun) {
        await fs.mkdir(kubePaths(ctx.stateDir).dir, { recursive: true, mode: 0o700 });
        await fs.writeFile(file, text, { mode: 0o600 });
      }
      await must(ctx.runner, { file: 'kubeadm', args: ['init', '--config', file], privileged: true, timeoutMs: 20 * 60_000 });
    },
  };
}

/** kubeadm's admin.conf copied where kubectl looks by default, as kubeadm's own output advises. */
function adminKubeconfigStep(): Step {
  return {
    id: 'kubeconfig',
    title: `kubeconfig for kubectl and test-pods (${ROOT_KUBECONFIG}, from ${ADMIN_CONF})`,
    async check(ctx) {
      if (await sameAsSource(ctx, ROOT_KUBECONFIG, ctx.sys(ADMIN_CONF), 0o600)) return done();
      return (await ctx.files.exists(ROOT_KUBECONFIG)) ? drift(`${ROOT_KUBECONFIG} is not ${ADMIN_CONF}`) : todo(`no ${ROOT_KUBECONFIG}`);
    },
    async apply(ctx) {
      await installFromFile(ctx, ROOT_KUBECONFIG, ctx.sys(ADMIN_CONF), 0o600);
    },
  };
}

async function kubeadmNode(ctx: Context): Promise<KubeNode | undefined> {
  const r = await ctx.probe.run(adminKubectl(['get', 'node', nodeName(), '-o', 'json']));
  return ok(r) ? (JSON.parse(r.stdout) as KubeNode) : undefined;
}

export function kubeadmSteps(pinnedMinor: string): Step[] {
  return [
    kubernetesPackagesStep(pinnedMinor),
    forwardingStep(),
    kubeadmInitStep(),
    adminKubeconfigStep(),
    nodeReadyStep(kubeadmNode, () => 'sudo journalctl -u kubelet -n 100, and `kubectl describe node`'),
  ];
}
