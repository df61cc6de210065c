// test-pods for real: a single-node Kubernetes built from source (kube-apiserver, kube-scheduler,
// kubelet, kine) on the lab's CRI-O, and the verdicts kubelet reaches for the signed and unsigned
// pods. Runs as root. Independent of the other e2e files: it brings up the lab and the images
// itself, and ends with clean-all, leaving the machine as it found it.
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { promises as fs } from 'node:fs';
import { before, describe, test } from 'node:test';
import { explain, json, running, sigpoc, systemSnapshot, assertSystemRestored } from './helpers.js';

const KUBECONFIG = '/root/.kube/config';
const CLUSTER_PROGRAMS = ['kine', 'kube-apiserver', 'kube-scheduler', 'kubelet'];

async function kubectlJson<T = any>(args: string[]): Promise<T> {
  const r = await execa('kubectl', [...args, '-o', 'json', '--request-timeout=10s'], { reject: false, env: { KUBECONFIG } });
  assert.equal(r.exitCode, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(String(r.stdout)) as T;
}

const fileText = (p: string): Promise<string | undefined> => fs.readFile(p, 'utf8').catch(() => undefined);
const fileExists = (p: string): Promise<boolean> => fs.access(p).then(() => true, () => false);
const mountPoints = (mountinfo = ''): string[] => mountinfo.split('\n').map((l) => l.split(' ')[4]).filter(Boolean).sort();

describe('kubernetes: test-pods on a single-node cluster built from source, on the lab CRI-O', () => {
  let pristine: Record<string, string>;
  let kubeconfigBefore: string | undefined;
  let mountsBefore: string[];
  let logLinksBefore: boolean;

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the end-to-end suite runs as root (it installs and starts CRI-O and kubelet)');
    const r = await sigpoc(['clean-all', '--yes']);
    assert.equal(r.exitCode, 0, explain(r));
    pristine = await systemSnapshot();
    kubeconfigBefore = await fileText(KUBECONFIG);
    mountsBefore = await fileText('/proc/self/mountinfo').then(mountPoints);
    logLinksBefore = await fileExists('/var/log/containers');
  });

  test('setup --from source --with-kubernetes builds or reuses the binaries and brings the node Ready', async () => {
    const r = await sigpoc(['setup', '--from', 'source', '--with-kubernetes', '--yes', '--json']);
    assert.equal(r.exitCode, 0, explain(r));
    const doc = json(r);
    assert.equal(doc.kubeconfig, KUBECONFIG);
    const builds = doc.steps.filter((s: { id: string }) => /^build-(kube|kine)/.test(s.id));
    assert.deepEqual(builds.map((s: { id: string }) => s.id), ['build-kube-apiserver', 'build-kube-scheduler', 'build-kubelet', 'build-kine']);
    for (const b of builds) console.log(`${b.id}: ${b.changed ? `built in ${Math.round(b.durationMs / 1000)}s` : 'cached'}`);

    const nodes = await kubectlJson<{ items: any[] }>(['get', 'nodes']);
    assert.equal(nodes.items.length, 1);
    const node = nodes.items[0];
    assert.equal(node.status.conditions.find((c: { type: string }) => c.type === 'Ready').status, 'True');
    assert.equal(node.status.nodeInfo.kubeletVersion, 'v1.36.3');
    assert.equal(node.status.nodeInfo.containerRuntimeVersion, 'cri-o://1.36.3');
    for (const p of CLUSTER_PROGRAMS) assert.notDeepEqual(await running(p), [], `${p} is not running`);
  });

  test('the control plane listens on loopback only', async () => {
    const ss = await execa('ss', ['-Hltnp'], { reject: false });
    assert.equal(ss.exitCode, 0, ss.stderr);
    const listening = String(ss.stdout).split('\n').filter((l) => /"(kine|kube-apiserver|kube-scheduler|kubelet)"/.test(l));
    assert.ok(listening.length >= 4, String(ss.stdout));
    for (const l of listening) assert.match(l.split(/\s+/)[3], /^127\.0\.0\.1:\d+$/, `not on loopback: ${l}`);
  });

  test('a second setup --with-kubernetes builds nothing and changes nothing', async () => {
    const r = await sigpoc(['setup', '--from', 'source', '--with-kubernetes', '--yes', '--json']);
    assert.equal(r.exitCode, 0, explain(r));
    assert.deepEqual(json(r).steps.filter((s: { changed: boolean }) => s.changed).map((s: { id: string }) => s.id), []);
  });

  test('test --offline --case signed unsigned: the images are pushed and signed, the policy installed', async () => {
    const r = await sigpoc(['test', '--offline', '--json', '--case', 'signed', 'unsigned']);
    assert.equal(r.exitCode, 0, explain(r));
  });

  test('test-pods: the signed pod runs, the unsigned one is refused by CRI-O for its signature', async () => {
    const r = await sigpoc(['test-pods', '--json', '--timeout', '240']);
    assert.equal(r.exitCode, 0, explain(r));
    const by = Object.fromEntries(json(r).verdicts.map((v: { name: string }) => [v.name, v]));
    assert.equal(by.signed.actual, 'accepted', by.signed.reason);
    assert.match(by.signed.reason, /^Running, image 127\.0\.0\.1:5003\/alpine@sha256:[0-9a-f]{64}$/);
    assert.equal(by.unsigned.actual, 'rejected', by.unsigned.reason);
    assert.match(by.unsigned.reason, /SignatureValidationFailed/);
    assert.match(by.unsigned.reason, /A signature was required, but no signature exists/);
    for (const v of Object.values(by) as { pass: boolean; policyPath?: string; name: string }[]) {
      assert.equal(v.pass, true, v.name);
      assert.equal(v.policyPath, '/etc/crio/policy.json', v.name);
    }
    // What a user sees with kubectl: kubelet's own state of the refused container.
    const pod = await kubectlJson(['get', 'pod', 'unsigned-alpine-crio']);
    const waiting = pod.status.containerStatuses[0].state.waiting;
    assert.match(waiting.reason, /^(ErrImagePull|ImagePullBackOff|SignatureValidationFailed)$/);
    assert.match(waiting.message, /SignatureValidationFailed|signature validation failed/);
  });

  test('test-pods --all-nodes: one signed and one unsigned pod pinned to the node, verdicts per node, pods removed', async () => {
    const r = await sigpoc(['test-pods', '--all-nodes', '--json', '--timeout', '240']);
    assert.equal(r.exitCode, 0, explain(r));
    const verdicts = json(r).verdicts as { name: string; node: string; actual: string; reason: string }[];
    const node = (await kubectlJson<{ items: any[] }>(['get', 'nodes'])).items[0].metadata.name;
    assert.deepEqual(verdicts.map((v) => `${v.name}@${v.node}:${v.actual}`), [`signed@${node}:accepted`, `unsigned@${node}:rejected`]);
    assert.match(verdicts[1].reason, /SignatureValidationFailed/);
  });

  test('audit --all-nodes: pods in two namespaces, the one started under a permissive policy would break', async () => {
    const kubectl = (args: string[], input?: string) => execa('kubectl', [...args, '--request-timeout=30s'], { reject: false, env: { KUBECONFIG }, input });
    const pod = (ns: string, image: string) =>
      JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'app', namespace: ns }, spec: { automountServiceAccountToken: false, terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image, command: ['sleep', '3600'] }] } });
    for (const ns of ['e2e-audit-a', 'e2e-audit-b']) assert.equal((await kubectl(['create', 'namespace', ns])).exitCode, 0);
    try {
      // The unsigned workload starts while a permissive policy, like CRI-O's packages ship, is in place.
      const strict = await fs.readFile('/etc/crio/policy.json');
      await fs.writeFile('/etc/crio/policy.json', '{"default": [{"type": "insecureAcceptAnything"}]}\n');
      try {
        for (const [ns, image] of [['e2e-audit-a', '127.0.0.1:5003/alpine:3.20.3'], ['e2e-audit-b', '127.0.0.1:5003/unsigned/alpine:3.20.3']]) {
          const c = await kubectl(['apply', '-f', '-'], pod(ns, image));
          assert.equal(c.exitCode, 0, String(c.stderr));
        }
        for (const ns of ['e2e-audit-a', 'e2e-audit-b']) {
          const w = await kubectl(['wait', '-n', ns, '--for=condition=Ready', 'pod/app', '--timeout=180s']);
          assert.equal(w.exitCode, 0, `${ns}: ${w.stderr}`);
        }
      } finally {
        await fs.writeFile('/etc/crio/policy.json', strict);
      }
      const r = await sigpoc(['audit', '--all-nodes', '--json']);
      assert.equal(r.exitCode, 1, explain(r));
      const doc = json(r);
      const mine = (list: { namespace: string }[]) => list.filter((w) => w.namespace.startsWith('e2e-audit-'));
      assert.deepEqual(mine(doc.workloads).map((w: any) => `${w.namespace}/${w.workload}/${w.container}`), ['e2e-audit-a/pod/app/app', 'e2e-audit-b/pod/app/app']);
      const broken = mine(doc.wouldBreak) as { namespace: string; image: string; reason: string }[];
      assert.deepEqual(broken.map((w) => w.namespace), ['e2e-audit-b']);
      assert.match(broken[0].image, /^127\.0\.0\.1:5003\/unsigned\/alpine@sha256:[0-9a-f]{64}$/, 'asked by the digest that runs');
      assert.match(broken[0].reason, /^SignatureValidationFailed: Source image rejected: A signature was required, but no signature exists$/);
      const signed = mine(doc.workloads).find((w) => w.namespace === 'e2e-audit-a') as unknown as { image: string };
      assert.equal(doc.images.find((i: { image: string }) => i.image === signed.image).verdict, 'admitted');
    } finally {
      // The lab runs no namespace controller: the pods go, the namespaces stay until clean-all.
      for (const ns of ['e2e-audit-a', 'e2e-audit-b']) await kubectl(['delete', 'pod', '-n', ns, 'app', '--grace-period=0', '--force']);
    }
  });

  test('status: the cluster check names the Ready node and the kubeconfig', async () => {
    const r = await sigpoc(['status', '--json']);
    const k = json(r).checks.find((c: { id: string }) => c.id === 'kubernetes');
    assert.equal(k?.level, 'ok', JSON.stringify(k));
    assert.match(k.detail, /^node \S+ Ready \(kubeconfig \/root\/\.kube\/config; supervised: kine, kube-apiserver, kube-scheduler, kubelet\)$/);
  });

  test('clean-all stops the cluster and CRI-O, removes its state, and restores every file', async () => {
    const r = await sigpoc(['clean-all', '--yes']);
    assert.equal(r.exitCode, 0, explain(r));
    for (const p of [...CLUSTER_PROGRAMS, 'crio', 'conmon', 'dockerd']) assert.deepEqual(await running(p), [], `${p} still running`);
    await assertSystemRestored(pristine);
    assert.equal(await fileText(KUBECONFIG), kubeconfigBefore, `${KUBECONFIG} not as before`);
    await assert.rejects(fs.access('/var/lib/crio-sigpoc/kubernetes'), 'the cluster state is gone');
    // kubelet's bind mount of its directory, and any cgroup mount setup added, are gone too.
    assert.deepEqual(await fileText('/proc/self/mountinfo').then(mountPoints), mountsBefore);
    const left = [];
    for (const c of await fs.readdir('/sys/fs/cgroup')) if (await fileExists(`/sys/fs/cgroup/${c}/kubepods`)) left.push(c);
    assert.deepEqual(left, [], 'kubelet cgroups left');
    assert.equal(await fileExists('/var/log/containers'), logLinksBefore, "kubelet's /var/log/containers not as before");
  });
});
