// test-pods: reaching the cluster (against kubectl's real output where no cluster is needed), the
// manifests, the per-node pods, and the bounded wait (against a fake kubectl: no cluster runs here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import type { Context } from '../../src/core/context.js';
import type { Command, RunResult, Runner } from '../../src/core/command.js';
import { EXIT, EnvironmentError, UsageError } from '../../src/core/errors.js';
import { IMAGES, LABEL, imageRef } from '../../src/core/settings.js';
import { kubectlError, parseReady, parseVersion } from '../../src/setup/kubernetes/kubectl.js';
import type { ClusterReach } from '../../src/setup/kubernetes/kubectl.js';
import type { KubeNode } from '../../src/setup/kubernetes/kubectl.js';
import { POD_CASES, perNodeCases, pinnedPod, podNameFor, readyNodes } from '../../src/verify/pod-cases.js';
import { waitForPodVerdicts } from '../../src/verify/run-pods.js';
import { clusterError, parseTimeout } from '../../src/verify/test-pods.js';

const fixtures = new URL('../fixtures/kubectl/', import.meta.url);
const fixture = (f: string): string => readFileSync(new URL(f, fixtures), 'utf8');
const recorded = (stem: string, exitCode: number): RunResult => ({
  exitCode,
  stdout: fixture(`${stem}.stdout.recorded.txt`).trimEnd(),
  stderr: fixture(`${stem}.stderr.recorded.txt`).trimEnd(),
  timedOut: false,
});
const okResult = (stdout: string): RunResult => ({ exitCode: 0, stdout, stderr: '', timedOut: false });
/** What clusterReach answers when `kubectl version` went as recorded (and /readyz said `readyz`). */
function reach(version: RunResult, readyz: RunResult = okResult('ok')): ClusterReach {
  const v = parseVersion(version);
  return 'server' in v ? parseReady(v.server, readyz) : v;
}
const projectDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

test('recorded: kubectl without a kubeconfig reaches no cluster; the next step says to set KUBECONFIG', () => {
  const answer = reach(recorded('version-no-kubeconfig', 1));
  assert.deepEqual(answer, { reachable: false, installed: true, detail: 'The connection to the server localhost:8080 was refused - did you specify the right host or port?' });
  const e = clusterError(answer)!;
  assert.ok(e instanceof EnvironmentError);
  assert.equal(e.exitCode, EXIT.environment);
  assert.equal(e.message, 'no Kubernetes cluster answers: The connection to the server localhost:8080 was refused - did you specify the right host or port?');
  assert.match(e.next!, /kubectl has no kubeconfig and fell back to localhost:8080: set KUBECONFIG/);
});

test('recorded: a kubeconfig whose server is down or unknown names that server', () => {
  const refused = clusterError(reach(recorded('version-server-refused', 1)))!;
  assert.match(refused.message, /127\.0\.0\.1:6443 was refused/);
  assert.match(refused.next!, /check that the cluster in your kubeconfig is up/);
  const unknown = clusterError(reach(recorded('version-unknown-host', 1)))!;
  assert.match(unknown.message, /^no Kubernetes cluster answers: Unable to connect to the server: dial tcp: lookup no-such-host\.invalid/);
});

test('recorded: a kubeconfig user without credentials is named as such, not as "EOF"', () => {
  const e = clusterError(reach(recorded('version-no-credentials', 1)))!;
  assert.equal(e.message, 'no Kubernetes cluster answers: the kubeconfig gives no credentials for its cluster (kubectl asked for a username)');
  assert.match(e.next!, /add a token or client certificate/);
});

test('recorded: the message is kubectl\'s last line, not its klog noise', () => {
  assert.equal(kubectlError(recorded('get-pods-server-refused', 1)), 'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?');
  assert.equal(kubectlError(recorded('readyz-server-refused', 1)), 'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?');
});

test('kubectl missing is its own problem with its own next step', () => {
  const enoent: RunResult = { exitCode: 127, stdout: '', stderr: 'Command failed with ENOENT: kubectl version -o json\nspawn kubectl ENOENT', timedOut: false };
  const e = clusterError(reach(enoent))!;
  assert.equal(e.message, 'test-pods needs kubectl, which is not installed');
  assert.match(e.next!, /install kubectl/);
});

test('a server that answers and is ready lets test-pods go on; one that is not ready stops it', () => {
  const version = okResult(fixture('version-reachable.stdout.shaped-like-api.json'));
  const ready = reach(version);
  assert.deepEqual(ready, { reachable: true, ready: true, server: 'v1.36.3', detail: 'API server v1.36.3 ready' });
  assert.equal(clusterError(ready), undefined);
  const notReady = reach(version, { exitCode: 1, stdout: '', stderr: 'Error from server (InternalError): an error on the server ("[-]etcd failed: reason withheld\\nreadyz check failed") has prevented the request from succeeding', timedOut: false });
  const e = clusterError(notReady)!;
  assert.equal(e.exitCode, EXIT.environment);
  assert.match(e.message, /^the Kubernetes API server is not ready: API server v1\.36\.3 answers but is not ready: Error from server \(InternalError\)/);
});

test('--timeout takes positive seconds; anything else is a usage error (exit 2)', () => {
  assert.equal(parseTimeout('90'), 90);
  for (const bad of ['abc', '0', '-5', '']) {
    assert.throws(() => parseTimeout(bad), (e: unknown) => e instanceof UsageError && e.exitCode === EXIT.usage && /--timeout takes a number of seconds above 0/.test(e.message));
  }
});

test('the manifests are the pods the cases name: images from settings, label, pull Always, no token', () => {
  const expected = { signed: imageRef(IMAGES.signed), unsigned: imageRef(IMAGES.unsigned) } as Record<string, string>;
  assert.deepEqual(POD_CASES.map((c) => [c.name, c.expected]), [['signed', 'accepted'], ['unsigned', 'rejected']]);
  for (const c of POD_CASES) {
    const m = parse(readFileSync(path.join(projectDir, c.manifest), 'utf8'));
    assert.equal(m.metadata.name, c.pod);
    assert.equal(m.metadata.labels.test, LABEL);
    assert.equal(m.spec.automountServiceAccountToken, false);
    assert.equal(m.spec.containers.length, 1);
    assert.equal(m.spec.containers[0].image, expected[c.name]);
    assert.equal(c.image, expected[c.name]);
    assert.equal(m.spec.containers[0].imagePullPolicy, 'Always');
    assert.equal(m.spec.containers[0].command[0], 'sleep');
  }
  assert.deepEqual(POD_CASES.map((c) => c.pod), ['signed-alpine-crio', 'unsigned-alpine-crio']);
});

test('--all-nodes: one signed and one unsigned pod per Ready node, pinned by nodeName, tolerating taints', () => {
  const nodes = JSON.parse(fixture('nodes.three-one-not-ready.shaped-like-api.json')).items as KubeNode[];
  const ready = readyNodes(nodes);
  assert.deepEqual(ready, ['node-a', 'node-c'], 'node-b (Ready=Unknown) is left out; cordoned node-c still enforces policy');
  const cases = perNodeCases(ready);
  assert.deepEqual(cases.map((c) => [c.pod, c.node, c.expected]), [
    ['signed-alpine-crio-node-a', 'node-a', 'accepted'],
    ['unsigned-alpine-crio-node-a', 'node-a', 'rejected'],
    ['signed-alpine-crio-node-c', 'node-c', 'accepted'],
    ['unsigned-alpine-crio-node-c', 'node-c', 'rejected'],
  ]);
  const manifest = parse(readFileSync(path.join(projectDir, 'manifests/unsigned-pod.yaml'), 'utf8'));
  const pinned = pinnedPod(manifest, cases[3]) as { metadata: { name: string; labels: Record<string, string> }; spec: { nodeName: string; tolerations: unknown[]; containers: { image: string }[] } };
  assert.equal(pinned.metadata.name, 'unsigned-alpine-crio-node-c');
  assert.equal(pinned.metadata.labels.test, LABEL, 'clean finds pinned pods by the same label');
  assert.equal(pinned.spec.nodeName, 'node-c');
  assert.deepEqual(pinned.spec.tolerations, [{ operator: 'Exists' }]);
  assert.equal(pinned.spec.containers[0].image, imageRef(IMAGES.unsigned));
  assert.equal(manifest.spec.nodeName, undefined, 'the manifest itself is not changed');
});

test('a long node name still gives a short, stable pod name', () => {
  const node = 'ip-10-0-12-34.eu-west-1.compute.internal.example-very-long-cluster-domain.com';
  const name = podNameFor('unsigned-alpine-crio', node);
  assert.ok(name.length <= 63, name);
  assert.match(name, /^unsigned-alpine-crio-[0-9a-f]{10}$/);
  assert.equal(name, podNameFor('unsigned-alpine-crio', node));
  assert.equal(podNameFor('signed-alpine-crio', 'node-a'), 'signed-alpine-crio-node-a');
});

/** A fake kubectl (no cluster here): answers `get pods` and `get events` from fixtures. */
function fakeKubectl(pods: string, events: string): { ctx: Context; calls: string[][] } {
  const calls: string[][] = [];
  const runner: Runner = {
    async run(cmd: Command) {
      calls.push([cmd.file, ...cmd.args]);
      assert.equal(cmd.readOnly, true, 'the wait only reads');
      if (cmd.args[1] === 'pods') return okResult(fixture(pods));
      if (cmd.args[1] === 'events') return okResult(fixture(events));
      throw new Error(`unexpected ${cmd.args.join(' ')}`);
    },
    spawnDetached: () => Promise.reject(new Error('not used')),
  };
  return { ctx: { runner } as unknown as Context, calls };
}

test('fake kubectl, --all-nodes: one verdict per node; a node that lets the unsigned image run fails', async () => {
  const { ctx, calls } = fakeKubectl('all-nodes.pods.shaped-like-api.json', 'all-nodes.events.shaped-like-api.json');
  const verdicts = await waitForPodVerdicts(ctx, perNodeCases(['node-a', 'node-c']), { timeoutS: 5, pollMs: 10, policyPathFor: (n) => (n === 'node-a' ? '/etc/crio/policy.json' : undefined) });
  assert.deepEqual(verdicts.map((v) => [v.node, v.name, v.actual, v.pass]), [
    ['node-a', 'signed', 'accepted', true],
    ['node-a', 'unsigned', 'rejected', true],
    ['node-c', 'signed', 'accepted', true],
    ['node-c', 'unsigned', 'accepted', false],
  ]);
  assert.match(verdicts[1].reason, /SignatureValidationFailed/);
  assert.match(verdicts[3].reason, /^Running, image 127\.0\.0\.1:5003\/unsigned\/alpine@sha256:/);
  assert.equal(verdicts[0].policyPath, '/etc/crio/policy.json');
  assert.equal(verdicts[2].policyPath, undefined);
  assert.equal(calls.length, 2, 'one poll: pods by label and pod warnings, whatever the number of nodes');
  assert.deepEqual(calls[0].slice(1, 5), ['get', 'pods', '-l', `test=${LABEL}`]);
});

test('fake kubectl: a pod still ContainerCreating at the deadline is an error verdict, and the wait stops', async () => {
  const { ctx, calls } = fakeKubectl('unsigned-creating.kubelet-1.36.pods.shaped-like-api.json', 'unsigned-creating.kubelet-1.36.events.shaped-like-api.json');
  const t0 = performance.now();
  const [v] = await waitForPodVerdicts(ctx, [POD_CASES[1]], { timeoutS: 0.2, pollMs: 50, policyPathFor: () => undefined });
  assert.ok(performance.now() - t0 < 2000);
  assert.ok(calls.length >= 4, 'it polled until the deadline');
  assert.equal(v.actual, 'error');
  assert.equal(v.pass, false);
  assert.match(v.reason, /^timed out after 0s, still Pending\/ContainerCreating$/);
});

test('real kubectl, no cluster: `crio-sigpoc test-pods` exits 3 with the reason and the next step', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sigpoc-test-pods-'));
  const kubeconfig = path.join(tmp, 'kubeconfig');
  // Port 1 on loopback: nothing listens there.
  writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters:\n- cluster: {server: "https://127.0.0.1:1"}\n  name: none\ncontexts:\n- context: {cluster: none, user: none}\n  name: none\ncurrent-context: none\nusers:\n- name: none\n  user: {token: not-a-secret}\n');
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--json', 'test-pods', '--timeout', '5'], {
    cwd: projectDir,
    encoding: 'utf8',
    env: { ...process.env, KUBECONFIG: kubeconfig, CRIO_SIGPOC_STATE_DIR: path.join(tmp, 'state') },
  });
  assert.equal(r.status, EXIT.environment, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.exitCode, 3);
  assert.equal(doc.error.message, 'no Kubernetes cluster answers: The connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?');
  assert.match(doc.error.next, /check that the cluster in your kubeconfig is up/);
});

/** A fake kubectl on PATH (no cluster runs here): logs its argv, answers only read-only questions. */
function fakeKubectlOnPath(): { env: NodeJS.ProcessEnv; log: string; state: string } {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sigpoc-fake-kubectl-'));
  const log = path.join(tmp, 'argv.log');
  const dir = new URL('../fixtures/kubectl/', import.meta.url).pathname;
  writeFileSync(
    path.join(tmp, 'kubectl'),
    `#!/bin/sh\necho "$*" >> '${log}'\ncase "$1 $2" in\n` +
      `  "version -o") cat '${dir}version-reachable.stdout.shaped-like-api.json' ;;\n` +
      `  "get --raw") echo ok ;;\n` +
      `  "get nodes") cat '${dir}nodes.three-one-not-ready.shaped-like-api.json' ;;\n` +
      `  *) echo "fake kubectl: not a read-only question: $*" >&2; exit 99 ;;\nesac\n`,
  );
  chmodSync(path.join(tmp, 'kubectl'), 0o755);
  return { env: { ...process.env, PATH: `${tmp}:${process.env.PATH}`, CRIO_SIGPOC_STATE_DIR: path.join(tmp, 'state') }, log, state: path.join(tmp, 'state') };
}

test('fake kubectl, --dry-run: the plan deletes and applies the manifests; kubectl is only asked read-only questions', () => {
  const fake = fakeKubectlOnPath();
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--dry-run', '--json', 'test-pods'], { cwd: projectDir, encoding: 'utf8', env: fake.env });
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { dryRun: boolean; plan: { kind: string; argv: string[] }[] };
  assert.equal(doc.dryRun, true);
  assert.deepEqual(doc.plan.map((a) => a.argv.slice(0, 4)), [
    ['kubectl', 'delete', 'pod', 'signed-alpine-crio'],
    ['kubectl', 'apply', '-f', path.join(projectDir, 'manifests/signed-pod.yaml')],
  ]);
  assert.ok(doc.plan[0].argv.includes('unsigned-alpine-crio') && doc.plan[1].argv.includes(path.join(projectDir, 'manifests/unsigned-pod.yaml')));
  const asked = readFileSync(fake.log, 'utf8').trim().split('\n');
  assert.deepEqual(asked, ['version -o json --request-timeout=10s', 'get --raw /readyz --request-timeout=10s']);
});

test('fake kubectl, --dry-run --all-nodes: pinned pods for the Ready nodes are planned, nothing is written', () => {
  const fake = fakeKubectlOnPath();
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--dry-run', '--json', 'test-pods', '--all-nodes'], { cwd: projectDir, encoding: 'utf8', env: fake.env });
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { plan: { kind: string; argv?: string[]; path?: string }[]; pods: { pod: string; node: string }[] };
  assert.deepEqual(doc.pods.map((p) => `${p.pod}@${p.node}`), ['signed-alpine-crio-node-a@node-a', 'unsigned-alpine-crio-node-a@node-a', 'signed-alpine-crio-node-c@node-c', 'unsigned-alpine-crio-node-c@node-c']);
  const write = doc.plan.find((a) => a.kind === 'write')!;
  assert.equal(write.path, path.join(fake.state, 'test-pods', 'pinned-pods.json'));
  assert.ok(doc.plan.some((a) => a.argv?.join(' ') === `kubectl apply -f ${write.path} --request-timeout=10s`));
  assert.ok(!existsSync(write.path), 'a dry run writes no file');
  assert.ok(readFileSync(fake.log, 'utf8').includes('get nodes -o json'));
});
