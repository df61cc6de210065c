// The pods test-pods runs, as data: the user-readable manifests for one node, and the same pods
// pinned to each Ready node for --all-nodes (Kubernetes does the distribution, no agent of ours).
import { createHash } from 'node:crypto';
import type { Expectation } from './verdict.js';
import { IMAGES, imageRef } from '../core/settings.js';
import type { KubeNode } from '../setup/kubernetes/kubectl.js';
import { InternalError } from '../core/errors.js';

export interface PodCase {
  name: string;
  /** The pod's name in the cluster. */
  pod: string;
  /** The manifest it comes from, relative to the project directory. */
  manifest: string;
  image: string;
  expected: Expectation;
  /** Set for --all-nodes: the node the pod is pinned to. */
  node?: string;
}

export const POD_CASES: PodCase[] = [
  { name: 'signed', pod: 'signed-alpine-crio', manifest: 'manifests/signed-pod.yaml', image: imageRef(IMAGES.signed), expected: 'accepted' },
  { name: 'unsigned', pod: 'unsigned-alpine-crio', manifest: 'manifests/unsigned-pod.yaml', image: imageRef(IMAGES.unsigned), expected: 'rejected' },
];

/** Nodes whose Ready condition is True: the ones a verdict can be asked of. */
export function readyNodes(nodes: KubeNode[]): string[] {
  return nodes.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((n) => n.metadata.name);
}

/** A pod name per node that stays a valid object name however long the node's name is. */
export function podNameFor(base: string, node: string): string {
  const name = `${base}-${node}`;
  return name.length <= 63 ? name : `${base}-${createHash('sha256').update(node).digest('hex').slice(0, 10)}`;
}

export function perNodeCases(nodes: string[]): PodCase[] {
  return nodes.flatMap((node) => POD_CASES.map((c) => ({ ...c, pod: podNameFor(c.pod, node), node })));
}

type Manifest = { metadata?: Record<string, unknown>; spec?: Record<string, unknown> } & Record<string, unknown>;

/** The case's manifest, renamed and pinned by nodeName (bypassing the scheduler), tolerating any taint. */
export function pinnedPod(manifest: Manifest, c: PodCase): Manifest {
  if (!c.node) throw new InternalError(`case ${c.name} names no node`);
  return {
    ...manifest,
    metadata: { ...manifest.metadata, name: c.pod },
    spec: { ...manifest.spec, nodeName: c.node, tolerations: [{ operator: 'Exists' }] },
  };
}
