// Real outputs recorded on the lab cluster that `setup --from source --with-kubernetes` brings up
// (kube-apiserver and kubelet v1.36.3 on CRI-O 1.36.3, kubectl client v1.32.4), read the way
// test-pods and status read them, and the host facts the lab steps decide on.
// test/fixtures/kubectl/*.recorded.json: `kubectl get pods -l test=crio-verification -o json` and
// `kubectl get events --field-selector involvedObject.kind=Pod,type=Warning -o json` right after
// test-pods (signed-running-unsigned-rejected), once the unsigned pod backed off (unsigned-backoff),
// and with the hugetlb cgroup unmounted so that runc refused the signed pod (signed-runtime-refused);
// `kubectl get nodes -o json`, `kubectl version -o json`. test/fixtures/kubernetes/: this host's
// /proc/cgroups and mountinfo (before setup, and with the cluster running).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { kubernetesCheck } from '../../src/status/kubernetes.js';
import { mountsUnder } from '../../src/setup/kubernetes/leftovers.js';
import { nodeReadiness } from '../../src/setup/kubernetes/node.js';
import { hugetlbEnabled, hugetlbMounted } from '../../src/setup/lab-runtime.js';
import type { KubeEvent, KubeNode, Pod } from '../../src/setup/kubernetes/kubectl.js';
import { parseVersion } from '../../src/setup/kubernetes/kubectl.js';
import { classifyPod } from '../../src/verify/pod-verdict.js';

const read = (dir: string, f: string): string => readFileSync(new URL(`../fixtures/${dir}/${f}`, import.meta.url), 'utf8');
const items = <T>(f: string): T[] => (JSON.parse(read('kubectl', f)) as { items: T[] }).items;

function recorded(stem: string) {
  const pods = items<Pod>(`${stem}.kubelet-1.36.pods.recorded.json`);
  const events = items<KubeEvent>(`${stem}.kubelet-1.36.events.recorded.json`);
  const classify = (name: string) => classifyPod(pods.find((p) => p.metadata.name === name), events, { timedOut: false, waitedS: 5 });
  return { pods, events, classify };
}

describe('recorded on the lab cluster: the verdicts test-pods reads from kubelet', () => {
  test('the signed pod Running is accepted, with the digest CRI-O ran', () => {
    const o = recorded('signed-running-unsigned-rejected').classify('signed-alpine-crio');
    assert.equal(o.actual, 'accepted');
    assert.match(o.reason, /^Running, image 127\.0\.0\.1:5003\/alpine@sha256:[0-9a-f]{64}$/);
  });

  test("kubelet 1.36's waiting reason SignatureValidationFailed is a rejection, with CRI-O's words", () => {
    const o = recorded('signed-running-unsigned-rejected').classify('unsigned-alpine-crio');
    assert.equal(o.actual, 'rejected');
    assert.match(o.reason, /^SignatureValidationFailed: image pull failed for 127\.0\.0\.1:5003\/unsigned\/alpine:3\.20\.3 because the signature validation failed: /);
    assert.match(o.reason, /Source image rejected: A signature was required, but no signature exists/);
  });

  test('ImagePullBackOff keeps the signature reason in its message: still a rejection', () => {
    const { pods, classify } = recorded('unsigned-backoff');
    assert.equal(pods.find((p) => p.metadata.name === 'unsigned-alpine-crio')?.status?.containerStatuses?.[0].state?.waiting?.reason, 'ImagePullBackOff');
    const o = classify('unsigned-alpine-crio');
    assert.equal(o.actual, 'rejected');
    assert.match(o.reason, /^Back-off pulling image "127\.0\.0\.1:5003\/unsigned\/alpine:3\.20\.3": SignatureValidationFailed: /);
  });

  test('the signed pod refused by the runtime (CreateContainerError from runc) is an error, never a pass', () => {
    const o = recorded('signed-runtime-refused').classify('signed-alpine-crio');
    assert.equal(o.actual, 'error');
    assert.match(o.reason, /^CreateContainerError: container create failed: .*runc create failed: .*cannot set hugetlb limit/);
    assert.equal(recorded('signed-runtime-refused').classify('unsigned-alpine-crio').actual, 'rejected');
  });

  test('the events hold earlier pods of the same names (other uids): only this pod\'s count', () => {
    const { pods, events } = recorded('signed-running-unsigned-rejected');
    const signed = pods.find((p) => p.metadata.name === 'signed-alpine-crio')!;
    const earlier = events.filter((e) => e.involvedObject?.name === 'signed-alpine-crio' && e.involvedObject.uid !== signed.metadata.uid);
    assert.ok(earlier.some((e) => e.message?.includes('runc create failed')), 'an earlier signed pod failed in runc');
    const stillCreating: Pod = { ...signed, status: { phase: 'Pending', containerStatuses: [{ name: 'alpine', state: { waiting: { reason: 'ContainerCreating' } } }] } };
    const o = classifyPod(stillCreating, events, { timedOut: false, waitedS: 1 });
    assert.equal(o.actual, 'pending');
    assert.doesNotMatch(o.reason, /runc/);
  });

  test('the recorded node reads as Ready, and status says so with the kubeconfig', () => {
    const nodes = items<KubeNode>('nodes.lab-ready.kubelet-1.36.recorded.json');
    assert.deepEqual(nodeReadiness(nodes[0]), { ready: true, detail: `node ${nodes[0].metadata.name} Ready` });
    const c = kubernetesCheck({
      kubeconfig: '/root/.kube/config',
      kubeconfigExists: true,
      setUpHere: true,
      supervised: ['kine', 'kube-apiserver', 'kube-scheduler', 'kubelet'],
      nodes: { exitCode: 0, stdout: read('kubectl', 'nodes.lab-ready.kubelet-1.36.recorded.json'), stderr: '', timedOut: false },
    });
    assert.equal(c.level, 'ok');
    assert.equal(c.detail, `node ${nodes[0].metadata.name} Ready (kubeconfig /root/.kube/config; supervised: kine, kube-apiserver, kube-scheduler, kubelet)`);
  });

  test('kubectl 1.32 against the lab: the server answers v1.36.3 (the skew warning on stderr does not matter)', () => {
    const v = parseVersion({ exitCode: 0, stdout: read('kubectl', 'version-lab.stdout.recorded.json'), stderr: read('kubectl', 'version-lab.stderr.recorded.txt'), timedOut: false });
    assert.deepEqual(v, { server: 'v1.36.3' });
  });
});

describe('status: the cluster check', () => {
  const refused = { exitCode: 1, stdout: '', stderr: read('kubectl', 'version-no-kubeconfig.stderr.recorded.txt'), timedOut: false };
  const base = { kubeconfig: '/root/.kube/config', kubeconfigExists: false, supervised: [] };

  test('no cluster and none set up here: a warning that names the setup command', () => {
    const c = kubernetesCheck({ ...base, setUpHere: false, nodes: refused });
    assert.equal(c.level, 'warning');
    assert.match(c.detail, /^no cluster answers \(The connection to the server localhost:8080 was refused/);
    assert.match(c.fix!, /setup --from source --with-kubernetes/);
  });

  test('the cluster setup made does not answer: a problem', () => {
    const c = kubernetesCheck({ ...base, setUpHere: true, supervised: ['kine'], nodes: refused });
    assert.equal(c.level, 'problem');
    assert.match(c.detail, /^the cluster setup made does not answer: .*supervised: kine\)$/);
  });

  test('a node that is not Ready is a problem, in kubelet\'s words', () => {
    const nodes = JSON.parse(read('kubectl', 'nodes.lab-ready.kubelet-1.36.recorded.json')) as { items: KubeNode[] };
    const ready = nodes.items[0].status!.conditions!.find((c) => c.type === 'Ready')!;
    Object.assign(ready, { status: 'False', reason: 'KubeletNotReady', message: 'container runtime network not ready' });
    const c = kubernetesCheck({ ...base, setUpHere: true, nodes: { exitCode: 0, stdout: JSON.stringify(nodes), stderr: '', timedOut: false } });
    assert.equal(c.level, 'problem');
    assert.match(c.detail, /not Ready: KubeletNotReady: container runtime network not ready/);
  });
});

describe("recorded on this host: what the lab's runtime steps decide on", () => {
  test('hugetlb is enabled in the kernel (CRI-O passes hugepage limits) but has no cgroup v1 mount (runc fails)', () => {
    assert.equal(hugetlbEnabled(read('kubernetes', 'proc-cgroups.hybrid-no-hugetlb-mount.recorded.txt')), true);
    const mountinfo = read('kubernetes', 'mountinfo.hybrid-no-hugetlb-mount.recorded.txt');
    assert.equal(hugetlbMounted(mountinfo), false);
    assert.equal(hugetlbMounted(`${mountinfo}42 31 0:40 / /sys/fs/cgroup/hugetlb rw,relatime - cgroup cgroup rw,hugetlb\n`), true);
  });

  test("kubelet's bind mount of its root directory (recorded) is found for clean-all, deepest first", () => {
    const mountinfo = read('kubernetes', 'mountinfo.lab-cluster-running.recorded.txt');
    assert.deepEqual(mountsUnder(mountinfo, '/var/lib/crio-sigpoc/kubernetes'), ['/var/lib/crio-sigpoc/kubernetes/kubelet']);
    assert.equal(hugetlbMounted(mountinfo), true, 'setup mounted hugetlb');
    // A pod volume below it (tmpfs, a space escaped as mountinfo does) comes first.
    const volume = '51 45 0:50 / /var/lib/crio-sigpoc/kubernetes/kubelet/pods/u1/volumes/kubernetes.io~projected/a\\040b rw - tmpfs tmpfs rw';
    assert.deepEqual(mountsUnder(`${mountinfo}${volume}\n`, '/var/lib/crio-sigpoc/kubernetes'), [
      '/var/lib/crio-sigpoc/kubernetes/kubelet/pods/u1/volumes/kubernetes.io~projected/a b',
      '/var/lib/crio-sigpoc/kubernetes/kubelet',
    ]);
    assert.deepEqual(mountsUnder(mountinfo, '/var/lib/crio-sigpoc/kube'), []);
  });
});
