// Classification of pod status + events into verdicts. The fixtures are shaped after the
// Kubernetes API and kubelet/CRI-O source (see test/fixtures/kubectl/README.md), not recordings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { classifyPod, SIGNATURE_MARKER } from '../../src/verify/pod-verdict.js';
import type { KubeEvent, Pod } from '../../src/setup/kubernetes/kubectl.js';

const dir = new URL('../fixtures/kubectl/', import.meta.url);
const items = <T>(file: string): T[] => (JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as { items: T[] }).items;
function scenario(name: string): { pod: Pod; events: KubeEvent[] } {
  return { pod: items<Pod>(`${name}.pods.shaped-like-api.json`)[0], events: items<KubeEvent>(`${name}.events.shaped-like-api.json`) };
}
const classify = (name: string, timedOut = false) => {
  const { pod, events } = scenario(name);
  return classifyPod(pod, events, { timedOut, waitedS: 120 });
};

test('signed pod Running is accepted, with the image digest kubelet ran as evidence', () => {
  const o = classify('signed-running.kubelet-1.36');
  assert.equal(o.actual, 'accepted');
  assert.match(o.reason, /^Running, image 127\.0\.0\.1:5003\/alpine@sha256:[0-9a-f]{64}$/);
});

test('kubelet 1.36: waiting reason SignatureValidationFailed is a rejection, reason kept with the library text', () => {
  const o = classify('unsigned-rejected.kubelet-1.36');
  assert.equal(o.actual, 'rejected');
  assert.match(o.reason, /^SignatureValidationFailed: image pull failed for 127\.0\.0\.1:5003\/unsigned\/alpine:3\.20\.3 because the signature validation failed: /);
  assert.match(o.reason, /A signature was required, but no signature exists/);
});

test('kubelet 1.36: ImagePullBackOff whose message carries SignatureValidationFailed is a rejection', () => {
  const o = classify('unsigned-backoff.kubelet-1.36');
  assert.equal(o.actual, 'rejected');
  assert.match(o.reason, /^Back-off pulling image "127\.0\.0\.1:5003\/unsigned\/alpine:3\.20\.3": SignatureValidationFailed: /);
});

test('kubelet 1.27: ErrImagePull with the runtime text is a rejection', () => {
  const o = classify('unsigned-rejected.kubelet-1.27');
  assert.equal(o.actual, 'rejected');
  assert.match(o.reason, /SignatureValidationFailed: unable to pull image or OCI artifact: pull image err: Source image rejected: A signature was required/);
});

test('kubelet 1.27: a bare back-off message takes its reason from this pod\'s last pull event', () => {
  const o = classify('unsigned-backoff-bare.kubelet-1.27');
  assert.equal(o.actual, 'rejected');
  assert.match(o.reason, /^Failed to pull image "127\.0\.0\.1:5003\/unsigned\/alpine:3\.20\.3": .*SignatureValidationFailed/);
});

test('a rejection at container creation (image already in storage, policy re-checked) is a rejection', () => {
  const o = classify('unsigned-rejected-at-create.kubelet-1.36');
  assert.equal(o.actual, 'rejected');
  assert.match(o.reason, /verifying signatures: SignatureValidationFailed: Source image rejected/);
});

test('a signed pod refused by the policy is reported as rejected (the verdict then fails)', () => {
  const o = classify('signed-rejected-no-attachments.kubelet-1.36');
  assert.equal(o.actual, 'rejected');
  assert.match(o.reason, /no signature exists/);
});

test('signature events of an EARLIER pod with the same name never count for this one', () => {
  const o = classify('unsigned-backoff-stale-events.kubelet-1.27');
  assert.equal(o.actual, 'error');
  assert.ok(!o.reason.includes(SIGNATURE_MARKER), o.reason);
  assert.match(o.reason, /^ImagePullBackOff: Back-off pulling image .*; last pull: Failed to pull image .*manifest unknown/);
});

test('registry down (RegistryUnavailable) is an error, never a rejection', () => {
  const o = classify('unsigned-registry-down.kubelet-1.36');
  assert.equal(o.actual, 'error');
  assert.match(o.reason, /^RegistryUnavailable: image pull failed for .* because the registry is unavailable: .*connect: connection refused$/);
});

test('manifest unknown (image never pushed) is an error, never a rejection', () => {
  const o = classify('unsigned-manifest-unknown.kubelet-1.36');
  assert.equal(o.actual, 'error');
  assert.match(o.reason, /^ErrImagePull: unable to pull image or OCI artifact: .*manifest unknown/);
});

test('a plain-HTTP registry not marked insecure is an error, never a rejection', () => {
  const o = classify('unsigned-registry-not-insecure.kubelet-1.36');
  assert.equal(o.actual, 'error');
  assert.match(o.reason, /^ErrImagePull: .*http: server gave HTTP response to HTTPS client$/);
});

test('CreateContainerConfigError is an error, never a rejection', () => {
  const o = classify('unsigned-create-config-error.kubelet-1.36');
  assert.equal(o.actual, 'error');
  assert.match(o.reason, /^CreateContainerConfigError: container has runAsNonRoot and image will run as root/);
});

test('a refused pause image (sandbox) is an error about the sandbox, not a rejection of the test image', () => {
  const o = classify('unsigned-sandbox-refused.kubelet-1.36');
  assert.equal(o.actual, 'error');
  assert.match(o.reason, /^the pod sandbox was refused, not the test image \(does the policy allow the pause image\?\): Failed to create pod sandbox: .*registry\.k8s\.io\/pause:3\.10 is rejected by policy/);
});

test('ContainerCreating keeps waiting, and becomes a timeout error when the time runs out', () => {
  assert.deepEqual(classify('unsigned-creating.kubelet-1.36'), { actual: 'pending', reason: 'Pending/ContainerCreating' });
  const o = classify('unsigned-creating.kubelet-1.36', true);
  assert.equal(o.actual, 'error');
  assert.equal(o.reason, 'timed out after 120s, still Pending/ContainerCreating');
});

test('an unschedulable pod is pending with the scheduler\'s reason, then a timeout error', () => {
  assert.match(classify('unsigned-unschedulable').reason, /^not scheduled: Unschedulable: 0\/1 nodes are available/);
  const o = classify('unsigned-unschedulable', true);
  assert.equal(o.actual, 'error');
  assert.match(o.reason, /^timed out after 120s, still not scheduled: Unschedulable: 0\/1 nodes are available: 1 node\(s\) had untolerated taint/);
});

test('a pod that is gone is an error', () => {
  const o = classifyPod(undefined, [], { timedOut: false, waitedS: 3 });
  assert.equal(o.actual, 'error');
  assert.match(o.reason, /disappeared/);
});

test('a container that ran and exited was accepted by the runtime', () => {
  const { pod } = scenario('signed-running.kubelet-1.36');
  const cs = pod.status!.containerStatuses![0];
  const exited: Pod = { ...pod, status: { ...pod.status, containerStatuses: [{ ...cs, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container' } }, lastState: { terminated: { exitCode: 1, reason: 'Error' } } }] } };
  const o = classifyPod(exited, [], { timedOut: false, waitedS: 3 });
  assert.equal(o.actual, 'accepted');
  assert.equal(o.reason, 'the container started, then Error (exit code 1)');
});

test('a pod the node turned away (phase Failed, no container) is an error with the node\'s reason', () => {
  const { pod } = scenario('unsigned-unschedulable');
  const evicted: Pod = { ...pod, spec: { ...pod.spec, nodeName: 'crio-lab' }, status: { phase: 'Failed', reason: 'OutOfcpu', message: 'Pod was rejected: Node didn\'t have enough resource: cpu, requested: 100, used: 1950, capacity: 2000' } };
  const o = classifyPod(evicted, [], { timedOut: false, waitedS: 3 });
  assert.equal(o.actual, 'error');
  assert.equal(o.reason, 'pod Failed: OutOfcpu: Pod was rejected: Node didn\'t have enough resource: cpu, requested: 100, used: 1950, capacity: 2000');
});
