// The lab's single-node cluster: pinned versions, loopback addresses, and where its files live
// (all under <state>/kubernetes, so clean-all removes them with the rest of the state).
import os from 'node:os';
import path from 'node:path';
import { VERSIONS } from '../../core/settings.js';
import { statePaths } from '../../core/state.js';

export const KUBERNETES_VERSION = VERSIONS.kubernetes;
export const KINE_VERSION = VERSIONS.kine;

/** k8s.io/kubernetes v1.X.Y publishes its staging modules (k8s.io/api, …) as v0.X.Y. */
export const stagingVersion = (v: string): string => v.replace(/^v1\./, 'v0.');

export const LOOPBACK = '127.0.0.1';
export const PORTS = { kine: 2379, apiserver: 6443, scheduler: 10259, kubeletHealthz: 10248 } as const;
export const apiServerUrl = `https://${LOOPBACK}:${PORTS.apiserver}`;
/** Service addresses; the first one is the `kubernetes` service, so the serving cert names it. */
export const SERVICE_CIDR = '10.0.0.0/24';
export const KUBERNETES_SERVICE_IP = '10.0.0.1';

/** kubelet names its node after the hostname, lowercased; its client certificate must agree. */
export const nodeName = (): string => os.hostname().toLowerCase();

/** kubectl's default kubeconfig for root, who runs setup: kubectl and test-pods need no flag. */
export const ROOT_KUBECONFIG = '/root/.kube/config';

export type KubeconfigUser = 'admin' | 'scheduler' | 'kubelet';

export function kubePaths(stateDir: string) {
  const dir = statePaths(stateDir).kubernetesDir;
  const pki = path.join(dir, 'pki');
  return {
    dir,
    pki,
    cert: (name: string) => path.join(pki, `${name}.crt`),
    key: (name: string) => path.join(pki, `${name}.key`),
    serviceAccountKey: path.join(pki, 'service-account.key'),
    serviceAccountPub: path.join(pki, 'service-account.pub'),
    kineDir: path.join(dir, 'kine'),
    /** kubelet's --root-dir: pods, plugins and its own serving certificate. */
    kubeletDir: path.join(dir, 'kubelet'),
    podLogs: path.join(dir, 'pod-logs'),
    /** Set when setup saw no /var/log/containers before kubelet made it: clean-all removes it. */
    logLinksMarker: path.join(dir, 'created-var-log-containers'),
    kubeletConfig: path.join(dir, 'kubelet-config.yaml'),
    kubeadmConfig: path.join(dir, 'kubeadm.yaml'),
    kubeconfig: (user: KubeconfigUser) => path.join(dir, `${user}.kubeconfig`),
  };
}
