// The lab cluster's programs as services, with the flags of hack/local-up-cluster.sh trimmed to a
// single node on loopback. Built from source, they have no systemd units: the tool supervises them.
import type { Context } from '../../core/context.js';
import { clusterCa, healthy, tcpOpen } from './api.js';
import { apiServerUrl, kubePaths, LOOPBACK, nodeName, PORTS, SERVICE_CIDR } from './layout.js';
import type { ServiceSpec } from '../../services/types.js';

/** kine's own test server uses these sqlite parameters (WAL, busy timeout, shared cache). */
const KINE_SQLITE_PARAMS = '_journal_mode=WAL&_busy_timeout=30000&_synchronous=NORMAL&_txlock=immediate&_stmt_cache_size=20&cache=shared';

/** etcd's API over sqlite. Its defaults listen on every interface (2379, metrics on :8080): not here. */
export function kineService(ctx: Context): ServiceSpec {
  const p = kubePaths(ctx.stateDir);
  return {
    name: 'kine',
    unit: 'crio-sigpoc-kine.service',
    argv: ['kine', '--listen-address', `${LOOPBACK}:${PORTS.kine}`, '--endpoint', `sqlite://${p.kineDir}/state.db?${KINE_SQLITE_PARAMS}`, '--metrics-bind-address', '0'],
    readyTimeoutMs: 30_000,
    ready: () => tcpOpen(LOOPBACK, PORTS.kine),
  };
}

/**
 * Loopback only. No kube-controller-manager runs, so: no service-account tokens (ServiceAccount
 * admission off, or every pod would wait for a token), no node-lifecycle controller to lift the
 * not-ready taint that TaintNodesByCondition puts on a new node (off too), and no endpoints for a
 * loopback address the API would refuse (reconciler none).
 */
export function apiServerService(ctx: Context): ServiceSpec {
  const p = kubePaths(ctx.stateDir);
  return {
    name: 'kube-apiserver',
    unit: 'crio-sigpoc-kube-apiserver.service',
    argv: [
      'kube-apiserver',
      `--bind-address=${LOOPBACK}`,
      `--advertise-address=${LOOPBACK}`,
      `--secure-port=${PORTS.apiserver}`,
      `--etcd-servers=http://${LOOPBACK}:${PORTS.kine}`,
      `--tls-cert-file=${p.cert('apiserver')}`,
      `--tls-private-key-file=${p.key('apiserver')}`,
      `--client-ca-file=${p.cert('ca')}`,
      `--kubelet-client-certificate=${p.cert('apiserver-kubelet-client')}`,
      `--kubelet-client-key=${p.key('apiserver-kubelet-client')}`,
      `--service-account-key-file=${p.serviceAccountPub}`,
      `--service-account-signing-key-file=${p.serviceAccountKey}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      '--disable-admission-plugins=ServiceAccount,TaintNodesByCondition',
      '--endpoint-reconciler-type=none',
    ],
    readyTimeoutMs: 120_000,
    ready: async (c) => healthy(`${apiServerUrl}/readyz`, { ca: await clusterCa(c.stateDir) }),
  };
}

export function schedulerService(ctx: Context): ServiceSpec {
  const kubeconfig = kubePaths(ctx.stateDir).kubeconfig('scheduler');
  return {
    name: 'kube-scheduler',
    unit: 'crio-sigpoc-kube-scheduler.service',
    argv: [
      'kube-scheduler',
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      `--bind-address=${LOOPBACK}`,
      `--secure-port=${PORTS.scheduler}`,
      '--leader-elect=false',
    ],
    readyTimeoutMs: 60_000,
    // Its serving certificate is self-signed in memory: only its health is read, on loopback.
    ready: () => healthy(`https://${LOOPBACK}:${PORTS.scheduler}/readyz`, { insecure: true }),
  };
}

export function kubeletService(ctx: Context): ServiceSpec {
  const p = kubePaths(ctx.stateDir);
  return {
    name: 'kubelet',
    unit: 'crio-sigpoc-kubelet.service',
    argv: [
      'kubelet',
      `--config=${p.kubeletConfig}`,
      `--kubeconfig=${p.kubeconfig('kubelet')}`,
      `--root-dir=${p.kubeletDir}`,
      `--cert-dir=${p.kubeletDir}/pki`,
      `--hostname-override=${nodeName()}`,
    ],
    readyTimeoutMs: 60_000,
    ready: () => healthy(`http://${LOOPBACK}:${PORTS.kubeletHealthz}/healthz`),
  };
}

/** In start order; clean-all stops them in reverse. */
export const KUBERNETES_SERVICES: { name: string; spec: (ctx: Context) => ServiceSpec }[] = [
  { name: 'kine', spec: kineService },
  { name: 'kube-apiserver', spec: apiServerService },
  { name: 'kube-scheduler', spec: schedulerService },
  { name: 'kubelet', spec: kubeletService },
];
