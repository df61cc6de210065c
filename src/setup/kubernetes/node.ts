// Whether a node can run the test pods, in kubelet's own words when it cannot.
import type { KubeNode } from './kubectl.js';

export function nodeReadiness(node: KubeNode | undefined): { ready: boolean; detail: string } {
  if (!node) return { ready: false, detail: 'the node has not registered yet' };
  const c = node.status?.conditions?.find((x) => x.type === 'Ready');
  if (c?.status === 'True') return { ready: true, detail: `node ${node.metadata.name} Ready` };
  return { ready: false, detail: c ? `node ${node.metadata.name} not Ready: ${[c.reason, c.message].filter(Boolean).join(': ')}` : `node ${node.metadata.name} reports no Ready condition yet` };
}
