// What runs now, as `audit` needs it: each workload with the images of its containers, named by
// the digest that runs (so the answer is about that content, and asking CRI-O pulls nothing new).
import type { Context } from '../../core/context.js';
import { CommandFailed, ok } from '../../core/command.js';
import { crictl, runCrictl } from '../../crio/crictl.js';
import type { Pod } from '../../setup/kubernetes/kubectl.js';
import { allPods } from '../../setup/kubernetes/kubectl.js';

export interface Workload {
  namespace: string;
  /** Kind/name of the owner (Deployment/web), or the pod or crictl sandbox itself. */
  workload: string;
  container: string;
  /** The reference asked of CRI-O: repository@digest when the running digest is known. */
  image: string;
}

const BY_DIGEST = /^(.+)@(sha256:[0-9a-f]{64})$/;

async function crictlJson<T>(ctx: Context, args: string[]): Promise<T> {
  const r = await runCrictl(ctx, [...args, '-o', 'json'], { timeoutMs: 30_000 });
  if (!ok(r)) throw new CommandFailed(await crictl(ctx, [...args, '-o', 'json']), r);
  return JSON.parse(r.stdout) as T;
}

/** The repository@digest CRI-O stored for an image ID, preferring the repository the container names. */
function runningDigest(digests: string[], named: string): string | undefined {
  const repo = named.replace(/@.*$/, '').replace(/:[^/:]+$/, '');
  return digests.find((d) => d.startsWith(`${repo}@`)) ?? digests.find((d) => BY_DIGEST.test(d));
}

export interface NodeWorkloads {
  workloads: Workload[];
  /** The images asked about that CRI-O's storage holds (by digest, from its image list). */
  stored: Set<string>;
}

/** Every container CRI-O knows on this node (running or not), with its pod's namespace. */
export async function nodeWorkloads(ctx: Context): Promise<NodeWorkloads> {
  // One listing each of containers, pods and images: as cheap for 50 images as for one.
  const [{ containers }, { items }, { images }] = await Promise.all([
    crictlJson<{ containers: { podSandboxId: string; metadata: { name: string }; image: { image: string }; imageRef: string; imageId?: string }[] }>(ctx, ['ps', '-a']),
    crictlJson<{ items: { id: string; metadata: { name: string; namespace: string } }[] }>(ctx, ['pods']),
    crictlJson<{ images: { id: string; repoDigests?: string[] }[] }>(ctx, ['images']),
  ]);
  const pods = new Map(items.map((p) => [p.id, p.metadata]));
  const digests = new Map(images.map((i) => [i.id.replace(/^sha256:/, ''), i.repoDigests ?? []]));
  const stored = new Set<string>();
  const workloads = containers.map((c) => {
    const pod = pods.get(c.podSandboxId);
    // CRI-O names the image ID in imageId (imageRef is then repository@digest), older ones in imageRef.
    const listed = digests.get((c.imageId || c.imageRef).replace(/^sha256:/, ''));
    const running = runningDigest(listed ?? (BY_DIGEST.test(c.imageRef) ? [c.imageRef] : []), c.image.image);
    if (running) stored.add(running);
    return { namespace: pod?.namespace ?? '', workload: `pod/${pod?.name ?? c.podSandboxId.slice(0, 13)}`, container: c.metadata.name, image: running ?? c.image.image };
  });
  return { workloads, stored };
}

/** The owner a person knows: a ReplicaSet's Deployment, a Job's CronJob is left as the Job. */
function ownerOf(pod: Pod): string {
  const owner = pod.metadata.ownerReferences?.[0];
  if (!owner) return `pod/${pod.metadata.name}`;
  const hash = pod.metadata.labels?.['pod-template-hash'];
  if (owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`)) return `deployment/${owner.name.slice(0, -hash.length - 1)}`;
  return `${owner.kind.toLowerCase()}/${owner.name}`;
}

/** Every container of every pod in the cluster, by the digest its node runs when it is known. */
export async function clusterWorkloads(ctx: Context): Promise<Workload[]> {
  const out: Workload[] = [];
  for (const pod of await allPods(ctx)) {
    const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
    for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
      const id = statuses.find((s) => s.name === c.name)?.imageID?.replace(/^[a-z-]+:\/\//, '') ?? '';
      out.push({ namespace: pod.metadata.namespace ?? 'default', workload: ownerOf(pod), container: c.name, image: BY_DIGEST.test(id) ? id : c.image });
    }
  }
  return out;
}
