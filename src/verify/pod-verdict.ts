// How a pod's status and events read as a verdict. Only CRI-O's SignatureValidationFailed, on the
// test container's own image, is a rejection; every other failure is an error that proves nothing.
//
// Where kubelet puts that reason depends on its version (pkg/kubelet/images/image_manager.go,
// evalCRIPullErr): since 1.28 the waiting reason IS "SignatureValidationFailed" and the message
// reads "image pull failed for IMAGE because the signature validation failed: …"; during back-off
// it is ImagePullBackOff with "Back-off pulling image …: SignatureValidationFailed: …" (older
// kubelets: only "Back-off pulling image …"); before 1.28 it was ErrImagePull with CRI-O's text.
// The "Failed to pull image" event carries CRI-O's text verbatim in every version.
import type { ContainerStatus, KubeEvent, Pod } from '../setup/kubernetes/kubectl.js';

export const SIGNATURE_MARKER = 'SignatureValidationFailed';

export interface PodOutcome {
  /** 'pending': not decided yet, keep waiting. */
  actual: 'accepted' | 'rejected' | 'error' | 'pending';
  reason: string;
}

/** Waiting reasons of a container whose image the runtime refused or could not provide. */
const IMAGE_FAILURES = new Set(['ErrImagePull', 'ImagePullBackOff', SIGNATURE_MARKER, 'CreateContainerError']);
/** Waiting reasons on the normal way to Running. */
const ON_THE_WAY = new Set(['ContainerCreating', 'PodInitializing']);

export function classifyPod(pod: Pod | undefined, events: KubeEvent[], opts: { timedOut: boolean; waitedS: number }): PodOutcome {
  if (!pod) return { actual: 'error', reason: 'the pod disappeared while waiting (deleted by someone else?)' };
  // Events outlive their pod: those of an earlier pod with the same name must not count.
  const mine = events.filter((e) => e.involvedObject?.name === pod.metadata.name && (!pod.metadata.uid || e.involvedObject.uid === pod.metadata.uid));
  const cs = pod.status?.containerStatuses?.[0];

  // The container started at least once: CRI-O let the image run.
  if (cs?.state?.running) return { actual: 'accepted', reason: cs.imageID ? `Running, image ${cs.imageID}` : 'Running' };
  const ran = cs?.state?.terminated ?? cs?.lastState?.terminated;
  if (ran) return { actual: 'accepted', reason: `the container started, then ${ran.reason ?? 'exited'} (exit code ${ran.exitCode ?? '?'})` };

  const w = cs?.state?.waiting;
  if (w?.reason && IMAGE_FAILURES.has(w.reason)) {
    const evidence = signatureEvidence(w, mine);
    if (evidence) return { actual: 'rejected', reason: evidence };
    const lastPull = latestPullFailure(mine);
    const said = [w.reason, w.message].filter(Boolean).join(': ');
    return { actual: 'error', reason: lastPull && !said.includes(lastPull) ? `${said}; last pull: ${lastPull}` : said };
  }
  if (w?.reason && !ON_THE_WAY.has(w.reason)) return { actual: 'error', reason: [w.reason, w.message].filter(Boolean).join(': ') };

  if (!cs && (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded')) {
    return { actual: 'error', reason: `pod ${pod.status.phase}: ${[pod.status.reason, pod.status.message].filter(Boolean).join(': ') || 'no reason given'}` };
  }
  // A refused pause image fails every pod on the node the same way: it says nothing about the test image.
  const sandbox = latest(mine, (e) => e.reason === 'FailedCreatePodSandBox' && Boolean(e.message?.includes(SIGNATURE_MARKER)));
  if (sandbox) return { actual: 'error', reason: `the pod sandbox was refused, not the test image (does the policy allow the pause image?): ${sandbox.message}` };

  const still = pendingDetail(pod, cs, mine);
  return opts.timedOut ? { actual: 'error', reason: `timed out after ${opts.waitedS}s, still ${still}` } : { actual: 'pending', reason: still };
}

/** The runtime's words that prove a signature rejection of this container's image, if any. */
function signatureEvidence(w: { reason?: string; message?: string }, events: KubeEvent[]): string | undefined {
  if (w.message?.includes(SIGNATURE_MARKER)) return w.message;
  if (w.reason === SIGNATURE_MARKER) return `${SIGNATURE_MARKER}: ${w.message ?? ''}`.trim();
  // Older kubelets back off with a bare "Back-off pulling image": the last pull's event says why.
  if (w.reason === 'ImagePullBackOff') {
    const last = latestPullFailure(events);
    if (last?.includes(SIGNATURE_MARKER)) return last;
  }
  return undefined;
}

function latestPullFailure(events: KubeEvent[]): string | undefined {
  return latest(events, (e) => e.reason === 'Failed' && Boolean(e.message?.startsWith('Failed to pull image')))?.message;
}

function pendingDetail(pod: Pod, cs: ContainerStatus | undefined, events: KubeEvent[]): string {
  const unscheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unscheduled) return `not scheduled: ${[unscheduled.reason, unscheduled.message].filter(Boolean).join(': ')}`;
  const where = [pod.status?.phase ?? 'Pending', cs?.state?.waiting?.reason].filter(Boolean).join('/');
  const warning = latest(events, (e) => e.type === 'Warning');
  return warning ? `${where}; last warning: ${warning.reason}: ${warning.message}` : where;
}

function latest(events: KubeEvent[], pick: (e: KubeEvent) => boolean): KubeEvent | undefined {
  const when = (e: KubeEvent): number => Date.parse(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? '') || 0;
  return events.filter(pick).sort((a, b) => when(b) - when(a))[0];
}
