// setup --with-kubernetes against a fake runner under a temp root: the builds through the wrapper
// module, the lab cluster's files, certificates and services (plans), the VM path with kubeadm
// (plan only: it needs the internet), and clean-all. The real cluster runs in test/e2e/kubernetes.test.ts.
import assert from 'node:assert/strict';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { setupMachine as setup } from '../../src/setup/machine.js';
import type { Command } from '../../src/core/command.js';
import { KUBERNETES_VERSION, kubePaths, nodeName } from '../../src/setup/kubernetes/layout.js';
import { renderKubeadmConfig, renderKubeletConfig, renderWrapperGoMod, stagingModules } from '../../src/setup/kubernetes/render.js';
import { KUBERNETES_SERVICES } from '../../src/setup/kubernetes/specs.js';
import { VERSIONS } from '../../src/core/settings.js';
import { identify } from '../../src/core/proc.js';
import { pidFile, pidFileText } from '../../src/services/supervisor.js';
import { KUBERNETES_BINARIES, LAB_BINARIES } from '../../src/setup/binaries.js';
import { cachedBinary } from '../../src/setup/go-build.js';
import { LAB_PACKAGES } from '../../src/setup/index.js';
import { kubeBuildStep, KUBELET, kubeLdflags, wrapperDir } from '../../src/setup/kubernetes/build.js';
import { leafCertificates } from '../../src/setup/kubernetes/pki.js';
import { hugetlbMarker } from '../../src/setup/lab-runtime.js';
import { stopSupervisedStep } from '../../src/setup/clean-all.js';
import { dpkgInstalled, FakeRunner, planOf, rootFrom, tempDir, testContext } from './setup-fakes.js';

const noTty = { tty: false, confirm: async () => false };
const goModJson = readFileSync(new URL('../fixtures/kubernetes/kubernetes-v1.36.3-go-mod-edit-json.recorded.json', import.meta.url), 'utf8');

/** A lab host whose packages are in, Go present, dockerd up, CRI-O up; no cluster answers. */
function labMachine() {
  return new FakeRunner((cmd) => {
    if (cmd.file === 'dpkg-query') return dpkgInstalled(Object.fromEntries(LAB_PACKAGES.map((p) => [p.name, '1.0-1'])));
    if (cmd.file === 'go' && cmd.args[0] === 'env') return { exitCode: 0, stdout: 'go1.26.8' };
    if (cmd.file === 'docker' || cmd.file === 'crictl') return { exitCode: 0, stdout: 'ok' };
    return undefined;
  });
}

async function fillCache(cache: string, placements = [...LAB_BINARIES, ...KUBERNETES_BINARIES]): Promise<void> {
  for (const p of placements) {
    const bin = cachedBinary({ cacheDir: cache } as Parameters<typeof cachedBinary>[0], p.built);
    await fs.mkdir(path.dirname(bin), { recursive: true });
    await fs.writeFile(bin, `#!/bin/true ${p.built.name}@${p.built.version}\n`, { mode: 0o755 });
  }
}

async function labPlan(opts: { cached: boolean }) {
  const root = await rootFrom('debian-12', { systemd: false });
  const cache = await tempDir('cache');
  await fillCache(cache, opts.cached ? undefined : LAB_BINARIES);
  const fake = labMachine();
  const ctx = testContext(root, fake, { dryRun: true, cacheDir: cache });
  await setup(ctx, { ...ctx.opts, from: 'source', withKubernetes: true }, noTty);
  const state = kubePaths(ctx.stateDir);
  return { root, cache, fake, ctx, plan: planOf(ctx.recorder.actions, { [state.dir]: 'K8S', [cache]: 'CACHE', [root]: 'ROOT' }) };
}

const LDFLAGS = kubeLdflags(KUBERNETES_VERSION);

describe('setup --from source --with-kubernetes', () => {
  test('plan with an empty cache: the wrapper module, then each command and kine, into temporary names', async () => {
    const { plan } = await labPlan({ cached: false });
    assert.deepEqual(
      plan.filter((l) => /^build-(kube|kine)/.test(l)),
      [
        'build-kube-apiserver: go mod download -json k8s.io/kubernetes@v1.36.3',
        'build-kube-apiserver: write CACHE/go/kubernetes-module@v1.36.3/go.mod',
        'build-kube-apiserver: go -C CACHE/go/kubernetes-module@v1.36.3 mod tidy',
        `build-kube-apiserver: go -C CACHE/go/kubernetes-module@v1.36.3 build -trimpath -tags providerless -ldflags ${LDFLAGS} -o CACHE/go/kube-apiserver@v1.36.3/kube-apiserver.tmp k8s.io/kubernetes/cmd/kube-apiserver`,
        `build-kube-scheduler: go -C CACHE/go/kubernetes-module@v1.36.3 build -trimpath -tags providerless -ldflags ${LDFLAGS} -o CACHE/go/kube-scheduler@v1.36.3/kube-scheduler.tmp k8s.io/kubernetes/cmd/kube-scheduler`,
        `build-kubelet: go -C CACHE/go/kubernetes-module@v1.36.3 build -trimpath -tags providerless -ldflags ${LDFLAGS} -o CACHE/go/kubelet@v1.36.3/kubelet.tmp k8s.io/kubernetes/cmd/kubelet`,
        'build-kine: go mod download -json github.com/k3s-io/kine@v0.17.5',
        "build-kine: go -C <Dir of github.com/k3s-io/kine@v0.17.5> build -trimpath -ldflags -s -w -X github.com/k3s-io/kine/pkg/version.Version=v0.17.5 -o CACHE/go/kine@v0.17.5/kine.tmp .",
      ],
    );
    assert.match(LDFLAGS, /-X k8s\.io\/component-base\/version\.gitVersion=v1\.36\.3 -X k8s\.io\/component-base\/version\.gitMajor=1 -X k8s\.io\/component-base\/version\.gitMinor=36/);
  });

  test('plan with a full cache: no build; certificates, files, kubeconfig, then the four services on loopback', async () => {
    const { plan, fake } = await labPlan({ cached: true });
    assert.deepEqual(fake.calls.filter((c) => c.file === 'go' || c.file === 'gcc'), []);
    const node = nodeName();
    const k8s = plan.filter((l) => /^(install-kubernetes|kubernetes-|kubeconfig|kine|kube-|kubelet|node-ready)/.test(l));
    const openssl = k8s.filter((l) => l.includes(' openssl '));
    assert.deepEqual(openssl.map((l) => l.split(' ').slice(1, 4).join(' ')), [
      'openssl req -x509', 'openssl req -x509', 'openssl req -x509', 'openssl req -x509', 'openssl req -x509', 'openssl req -x509', 'openssl genpkey -algorithm', 'openssl pkey -in',
    ]);
    assert.ok(openssl[4].includes(`-subj /O=system:nodes/CN=system:node:${node} -CA K8S/pki/ca.crt -CAkey K8S/pki/ca.key`), openssl[4]);
    assert.deepEqual(k8s.filter((l) => !l.includes(' openssl ')), [
      ...['kube-apiserver', 'kube-scheduler', 'kubelet', 'kine'].map((b) => `install-kubernetes-binaries: write ROOT/usr/local/bin/${b}`),
      'kubernetes-config: write K8S/admin.kubeconfig',
      'kubernetes-config: write K8S/scheduler.kubeconfig',
      'kubernetes-config: write K8S/kubelet.kubeconfig',
      'kubernetes-config: write K8S/kubelet-config.yaml',
      'kubernetes-config: write K8S/created-var-log-containers',
      'kubeconfig: write ROOT/root/.kube/config',
      `kine-service: start [root] kine --listen-address 127.0.0.1:2379 --endpoint sqlite://K8S/kine/state.db?_journal_mode=WAL&_busy_timeout=30000&_synchronous=NORMAL&_txlock=immediate&_stmt_cache_size=20&cache=shared --metrics-bind-address 0`,
      `kube-apiserver-service: start [root] kube-apiserver --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port=6443 --etcd-servers=http://127.0.0.1:2379 --tls-cert-file=K8S/pki/apiserver.crt --tls-private-key-file=K8S/pki/apiserver.key --client-ca-file=K8S/pki/ca.crt --kubelet-client-certificate=K8S/pki/apiserver-kubelet-client.crt --kubelet-client-key=K8S/pki/apiserver-kubelet-client.key --service-account-key-file=K8S/pki/service-account.pub --service-account-signing-key-file=K8S/pki/service-account.key --service-account-issuer=https://kubernetes.default.svc.cluster.local --service-cluster-ip-range=10.0.0.0/24 --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction --disable-admission-plugins=ServiceAccount,TaintNodesByCondition --endpoint-reconciler-type=none`,
      'kube-scheduler-service: start [root] kube-scheduler --kubeconfig=K8S/scheduler.kubeconfig --authentication-kubeconfig=K8S/scheduler.kubeconfig --authorization-kubeconfig=K8S/scheduler.kubeconfig --bind-address=127.0.0.1 --secure-port=10259 --leader-elect=false',
      `kubelet-service: start [root] kubelet --config=K8S/kubelet-config.yaml --kubeconfig=K8S/kubelet.kubeconfig --root-dir=K8S/kubelet --cert-dir=K8S/kubelet/pki --hostname-override=${node}`,
    ]);
  });

  test("plan: Debian's runc instead of its crun, and a hugetlb mount where this host's cgroup v1 lacks one", async () => {
    const root = await rootFrom('debian-12', { systemd: false });
    const fixtures = new URL('../fixtures/kubernetes/', import.meta.url);
    await fs.mkdir(path.join(root, 'proc/self'), { recursive: true });
    await fs.copyFile(new URL('proc-cgroups.hybrid-no-hugetlb-mount.recorded.txt', fixtures), path.join(root, 'proc/cgroups'));
    await fs.copyFile(new URL('mountinfo.hybrid-no-hugetlb-mount.recorded.txt', fixtures), path.join(root, 'proc/self/mountinfo'));
    const cache = await tempDir('cache');
    await fillCache(cache);
    const ctx = testContext(root, labMachine(), { dryRun: true, cacheDir: cache });
    const outcome = await setup(ctx, { ...ctx.opts, from: 'source', withKubernetes: true }, noTty);
    const plan = planOf(ctx.recorder.actions, { [kubePaths(ctx.stateDir).dir]: 'K8S', [root]: 'ROOT' });
    assert.deepEqual(plan.filter((l) => /^(cgroup-hugetlb)/.test(l)), [
      'cgroup-hugetlb: [root] mkdir -p /sys/fs/cgroup/hugetlb',
      'cgroup-hugetlb: [root] mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb',
      'cgroup-hugetlb: write K8S/mounted-hugetlb',
    ]);
    // The lab's one drop-in runs containers with Debian's runc (its crun 1.8 refuses CRI-O 1.36's).
    const dropin = plan.find((l) => l.startsWith('crio-dropin: write'));
    assert.ok(dropin, plan.join('\n'));
    const ids = (outcome.json as { steps: { id: string }[] }).steps.map((st) => st.id);
    assert.ok(ids.indexOf('crio-dropin') < ids.indexOf('crio-service'), ids.join(' '));
  });

  test('plan: root kubeconfig is the admin of the lab cluster, by file, on loopback', async () => {
    const { ctx } = await labPlan({ cached: true });
    const { kubeconfigFor } = await import('../../src/setup/kubernetes/lab.js');
    const kc = parse(kubeconfigFor(ctx, 'admin'));
    const p = kubePaths(ctx.stateDir);
    assert.equal(kc.clusters[0].cluster.server, 'https://127.0.0.1:6443');
    assert.equal(kc.clusters[0].cluster['certificate-authority'], p.cert('ca'));
    assert.deepEqual(kc.users[0].user, { 'client-certificate': p.cert('admin'), 'client-key': p.key('admin') });
    assert.equal(parse(kubeconfigFor(ctx, 'kubelet')).users[0].user['client-key'], p.key(`kubelet-${nodeName()}`));
  });

  test("the wrapper module: every ./staging replace of k8s.io/kubernetes's own go.mod, at the published v0 version", () => {
    const doc = JSON.parse(goModJson);
    const staging = stagingModules(doc);
    assert.equal(staging.length, 33);
    for (const m of ['k8s.io/api', 'k8s.io/client-go', 'k8s.io/cri-api', 'k8s.io/cri-client', 'k8s.io/cri-streaming', 'k8s.io/streaming', 'k8s.io/kubelet']) assert.ok(staging.includes(m), m);
    const text = renderWrapperGoMod({ kubernetesVersion: 'v1.36.3', go: doc.Go, godebug: doc.GoDebug ?? [], staging, commands: ['k8s.io/kubernetes/cmd/kubelet'] });
    assert.match(text, /^go 1\.26\.0$/m);
    assert.match(text, /^godebug default=go1\.26$/m);
    assert.match(text, /^require k8s\.io\/kubernetes v1\.36\.3$/m);
    assert.match(text, /^tool \(\n\tk8s\.io\/kubernetes\/cmd\/kubelet\n\)$/m);
    assert.match(text, /^\tk8s\.io\/cri-client => k8s\.io\/cri-client v0\.36\.3$/m);
    assert.equal((text.match(/ => /g) ?? []).length, 33);
  });

  test('a real build run writes the wrapper once, tidies it, and builds into the cache', async () => {
    const root = await rootFrom('debian-12', { systemd: false });
    const cache = await tempDir('cache');
    const moduleDir = await tempDir('kubernetes@v1.36.3');
    const fake = new FakeRunner(async (cmd: Command) => {
      if (cmd.args[0] === 'env') return { exitCode: 0, stdout: 'go1.26.8' };
      if (cmd.args[0] === 'mod' && cmd.args[1] === 'download') return { exitCode: 0, stdout: JSON.stringify({ Dir: moduleDir }) };
      if (cmd.args[0] === 'mod' && cmd.args[1] === 'edit') return { exitCode: 0, stdout: goModJson };
      if (cmd.args.includes('tidy')) await fs.writeFile(path.join(cmd.args[1], 'go.sum'), 'sums\n');
      if (cmd.args.includes('build')) await fs.writeFile(cmd.args[cmd.args.indexOf('-o') + 1], 'elf');
      return { exitCode: 0 };
    });
    const ctx = testContext(root, fake, { dryRun: false, cacheDir: cache });
    await kubeBuildStep(KUBELET).apply(ctx);
    assert.deepEqual(fake.calls.find((c) => c.args[1] === 'edit')?.args, ['mod', 'edit', '-json', path.join(moduleDir, 'go.mod')]);
    const goMod = await fs.readFile(path.join(wrapperDir(ctx), 'go.mod'), 'utf8');
    assert.match(goMod, /^\tk8s\.io\/apiserver => k8s\.io\/apiserver v0\.36\.3$/m);
    const build = fake.calls.find((c) => c.args.includes('build'))!;
    assert.deepEqual(build.env, { CGO_ENABLED: '0' });
    assert.equal(await fs.readFile(path.join(cache, 'go/kubelet@v1.36.3/kubelet'), 'utf8'), 'elf');
    assert.equal((await kubeBuildStep(KUBELET).check(ctx)).state, 'done');
    // Another command in a later run reuses the tidied wrapper: no download, no tidy.
    fake.calls.length = 0;
    const later = testContext(root, fake, { dryRun: false, cacheDir: cache });
    const { KUBE_SCHEDULER } = await import('../../src/setup/kubernetes/build.js');
    await kubeBuildStep(KUBE_SCHEDULER).apply(later);
    assert.deepEqual(fake.calls.filter((c) => c.args[0] !== 'env').map((c) => c.args.find((a) => a === 'build' || a === 'tidy' || a === 'download')), ['build']);
  });

  test('kubelet configuration: cgroupfs, cgroup v1 allowed, swap tolerated, CRI-O socket, loopback, x509 only', () => {
    const c = parse(renderKubeletConfig({ clientCaFile: '/s/ca.crt', podLogsDir: '/s/pod-logs' }));
    assert.equal(c.kind, 'KubeletConfiguration');
    assert.equal(c.cgroupDriver, 'cgroupfs');
    assert.equal(c.failCgroupV1, false);
    assert.equal(c.failSwapOn, false);
    assert.equal(c.containerRuntimeEndpoint, 'unix:///var/run/crio/crio.sock');
    assert.equal(c.address, '127.0.0.1');
    assert.equal(c.readOnlyPort, 0);
    assert.deepEqual(c.authentication, { anonymous: { enabled: false }, webhook: { enabled: false }, x509: { clientCAFile: '/s/ca.crt' } });
  });

  test("Kubernetes is pinned at CRI-O's minor", () => {
    assert.ok(KUBERNETES_VERSION.startsWith(`${VERSIONS.kubeMinor}.`), KUBERNETES_VERSION);
    assert.ok(VERSIONS.crio.startsWith(`${VERSIONS.kubeMinor}.`));
  });

  test('certificates: who each client is to RBAC and the Node authorizer', () => {
    const by = Object.fromEntries(leafCertificates('node-a').map((l) => [l.name, l]));
    assert.equal(by['kubelet-node-a'].subject, '/O=system:nodes/CN=system:node:node-a');
    assert.equal(by.admin.subject, '/O=system:masters/CN=crio-sigpoc-admin');
    assert.equal(by.scheduler.subject, '/CN=system:kube-scheduler');
    assert.equal(by.apiserver.usage, 'serverAuth');
    assert.ok(by.apiserver.san!.includes('IP:127.0.0.1'));
  });
});

describe('setup --with-kubernetes on a VM (packages path, planned only: it needs the internet)', () => {
  test('plan: kubelet, kubeadm, kubectl at the minor of CRI-O, forwarding, kubeadm init on CRI-O, kubeconfig', async () => {
    const root = await rootFrom('ubuntu-24.04');
    const cache = await tempDir('cache');
    const ctx = testContext(root, new FakeRunner(), { dryRun: true, cacheDir: cache });
    await setup(ctx, { ...ctx.opts, from: 'packages', withKubernetes: true }, noTty);
    const state = kubePaths(ctx.stateDir);
    const plan = planOf(ctx.recorder.actions, { [state.dir]: 'K8S', [root]: 'ROOT', [cache]: 'CACHE' });
    const tail = plan.slice(plan.indexOf('docker-service: [root] systemctl enable --now docker.service') + 1);
    assert.deepEqual(tail, [
      'kubernetes-packages: [root] apt-get update',
      'kubernetes-packages: [root] apt-get install -y kubelet=1.36.* kubeadm=1.36.* kubectl=1.36.*',
      'ip-forwarding: write ROOT/etc/sysctl.d/99-crio-sigpoc-kubernetes.conf',
      'ip-forwarding: [root] sysctl -p /etc/sysctl.d/99-crio-sigpoc-kubernetes.conf',
      'kubeadm-init: write K8S/kubeadm.yaml',
      'kubeadm-init: [root] kubeadm init --config K8S/kubeadm.yaml',
      'kubeconfig: write ROOT/root/.kube/config',
    ]);
    const kubeconfig = ctx.recorder.actions.find((a) => a.step === 'kubeconfig');
    assert.match(kubeconfig?.display ?? '', /from .*\/etc\/kubernetes\/admin\.conf\)$/);
  });

  test("plan: kubeadm's configuration names CRI-O's socket, no taint, the installed version, systemd cgroups", () => {
    const docs = parseAllDocuments(renderKubeadmConfig({ kubernetesVersion: 'v1.36.4', nodeName: 'vm-1' })).map((d) => d.toJS());
    assert.deepEqual(docs[0].nodeRegistration, { name: 'vm-1', criSocket: 'unix:///var/run/crio/crio.sock', taints: [] });
    assert.equal(docs[1].kubernetesVersion, 'v1.36.4');
    assert.equal(docs[2].cgroupDriver, 'systemd');
  });
});

describe('clean-all with a cluster', () => {
  test('plan: the lab cluster stops kubelet first and unmounts what setup mounted, before CRI-O; a kubeadm cluster is reset', async () => {
    const root = await rootFrom('debian-12', { systemd: false });
    const ctx = testContext(root, new FakeRunner(), { dryRun: true });
    for (const s of [...KUBERNETES_SERVICES.map((x) => x.name), 'crio']) {
      await fs.mkdir(path.dirname(pidFile(ctx, s)), { recursive: true });
      await fs.writeFile(pidFile(ctx, s), pidFileText(identify(process.pid)!), { mode: 0o600 });
    }
    await fs.mkdir(kubePaths(ctx.stateDir).dir, { recursive: true });
    await fs.writeFile(kubePaths(ctx.stateDir).kubeadmConfig, '');
    await fs.writeFile(hugetlbMarker(ctx.stateDir), '');
    const fixtures = new URL('../fixtures/kubernetes/', import.meta.url);
    await fs.mkdir(path.join(root, 'proc/self'), { recursive: true });
    await fs.copyFile(new URL('mountinfo.lab-cluster-running.recorded.txt', fixtures), path.join(root, 'proc/self/mountinfo'));
    await fs.mkdir(path.join(root, 'sys/fs/cgroup/hugetlb'), { recursive: true });
    // kubelet's link to a pod log of the lab, in the directory setup saw it create.
    const links = path.join(root, 'var/log/containers');
    await fs.mkdir(links, { recursive: true });
    await fs.symlink(`${kubePaths(ctx.stateDir).podLogs}/default_signed/alpine/0.log`, path.join(links, 'signed_default_alpine-1.log'));
    await fs.writeFile(kubePaths(ctx.stateDir).logLinksMarker, '');
    const step = stopSupervisedStep();
    const before = await step.check(ctx);
    assert.deepEqual(before, { state: 'todo', why: 'still running: the kubeadm cluster, kubelet, kube-scheduler, kube-apiserver, kine, crio, the /sys/fs/cgroup/hugetlb mount' });
    ctx.recorder.step = step.id;
    await step.apply(ctx);
    const pid = String(process.pid);
    assert.deepEqual(planOf(ctx.recorder.actions, {}), [
      ...['kubelet', 'kube-scheduler', 'kube-apiserver', 'kine'].map(() => `stop-services: [root] kill -TERM ${pid}`),
      `stop-services: remove ${links}/signed_default_alpine-1.log`,
      `stop-services: remove ${links}`,
      'stop-services: [root] umount /sys/fs/cgroup/hugetlb',
      'stop-services: [root] rmdir /sys/fs/cgroup/hugetlb',
      'stop-services: [root] kubeadm reset -f --cri-socket unix:///var/run/crio/crio.sock',
      `stop-services: [root] kill -TERM ${pid}`,
    ]);
  });
});
