// The VM path needs the internet (the CRI-O and Kubernetes repositories, GitHub): here it is only
// planned, with --dry-run under a fixture root and a fake runner, and the exact plan is asserted.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setupMachine as setup } from '../../src/setup/machine.js';
import { detectHost, releaseArch } from '../../src/core/host.js';
import { renderCrioDropin } from '../../src/crio/dropin.js';
import { CRIO_REPO, KUBERNETES_REPO, renderSourcesList } from '../../src/setup/apt-repos.js';
import { dropinSettings } from '../../src/setup/crio-dropin.js';
import { dpkgInstalled, FakeRunner, planOf, rootFrom, snapshot, tempDir, testContext } from './setup-fakes.js';

const noTty = { tty: false, confirm: async () => false };

async function vmDryRun(fixture: string) {
  const root = await rootFrom(fixture);
  const cache = await tempDir('cache');
  const before = await snapshot(root);
  const fake = new FakeRunner();
  const ctx = testContext(root, fake, { dryRun: true, cacheDir: cache });
  const outcome = await setup(ctx, { ...ctx.opts, from: 'packages' }, noTty);
  return { root, cache, before, fake, ctx, outcome };
}

const expectedVmPlan = (arch: string): string[] => [
  'apt-prerequisites: [root] apt-get update',
  'apt-prerequisites: [root] apt-get install -y curl gpg ca-certificates',
  'crio-repo: curl -fsSL --retry 3 --create-dirs -o CACHE/downloads/crio-repo/Release.key https://download.opensuse.org/repositories/isv:/cri-o:/stable:/v1.36/deb/Release.key',
  'crio-repo: gpg --batch --yes --dearmor -o CACHE/downloads/crio-repo/cri-o-apt-keyring.gpg CACHE/downloads/crio-repo/Release.key',
  'crio-repo: write ROOT/etc/apt/keyrings/cri-o-apt-keyring.gpg',
  'crio-repo: write ROOT/etc/apt/sources.list.d/cri-o.list',
  'kubernetes-repo: curl -fsSL --retry 3 --create-dirs -o CACHE/downloads/kubernetes-repo/Release.key https://pkgs.k8s.io/core:/stable:/v1.36/deb/Release.key',
  'kubernetes-repo: gpg --batch --yes --dearmor -o CACHE/downloads/kubernetes-repo/kubernetes-apt-keyring.gpg CACHE/downloads/kubernetes-repo/Release.key',
  'kubernetes-repo: write ROOT/etc/apt/keyrings/kubernetes-apt-keyring.gpg',
  'kubernetes-repo: write ROOT/etc/apt/sources.list.d/kubernetes.list',
  'packages: [root] apt-get update',
  'packages: [root] apt-get install -y cri-o=1.36.* cri-tools=1.36.* docker.io conmon crun containernetworking-plugins skopeo',
  'cosign: curl -fsSL --retry 3 --create-dirs -o CACHE/downloads/cosign@v3.1.2/cosign_checksums.txt https://github.com/sigstore/cosign/releases/download/v3.1.2/cosign_checksums.txt',
  `cosign: curl -fsSL --retry 3 --create-dirs -o CACHE/downloads/cosign@v3.1.2/cosign-linux-${arch}.part https://github.com/sigstore/cosign/releases/download/v3.1.2/cosign-linux-${arch}`,
  'cosign: write ROOT/usr/local/bin/cosign',
  'crio-dropin: write ROOT/etc/crio/crio.conf.d/99-crio-sigpoc.conf',
  'crio-service: [root] systemctl enable --now crio.service',
  'docker-service: [root] systemctl enable --now docker.service',
];

describe('setup --from packages --dry-run plan (the VM path, planned only: it needs the internet)', () => {
  for (const fixture of ['ubuntu-24.04', 'debian-12']) {
    test(`dry-run plan on ${fixture}: the exact programs, argv and file writes, in order`, async () => {
      const { root, cache, ctx, outcome } = await vmDryRun(fixture);
      assert.equal(outcome.exitCode, 0);
      assert.deepEqual(planOf(ctx.recorder.actions, { [root]: 'ROOT', [cache]: 'CACHE' }), expectedVmPlan(releaseArch()));
    });
  }

  test('dry-run plan: apt runs non-interactively and the sources entries pin the keyring', async () => {
    const { ctx, root } = await vmDryRun('ubuntu-24.04');
    for (const a of ctx.recorder.actions) if (a.kind === 'run' && a.argv[0] === 'apt-get') assert.deepEqual(a.env, ['DEBIAN_FRONTEND']);
    // The list files are written with content: their digest is that of the signed-by line.
    const list = ctx.recorder.actions.find((a) => a.kind === 'write' && a.path === `${root}/etc/apt/sources.list.d/cri-o.list`);
    const line = 'deb [signed-by=/etc/apt/keyrings/cri-o-apt-keyring.gpg] https://download.opensuse.org/repositories/isv:/cri-o:/stable:/v1.36/deb/ /\n';
    assert.ok(list?.kind === 'write');
    assert.equal(list.sha256, createHash('sha256').update(line).digest('hex'));
  });

  test('dry-run changes nothing: the tree is byte-identical and only read-only probes ran', async () => {
    const { root, cache, before, fake } = await vmDryRun('ubuntu-24.04');
    assert.deepEqual(await snapshot(root), before);
    assert.deepEqual(await snapshot(cache), {});
    assert.ok(fake.calls.length > 0, 'the checks probed the machine');
    assert.deepEqual(
      fake.calls.filter((c) => !c.readOnly).map((c) => c.file),
      [],
    );
    assert.equal(fake.started.length, 0);
  });

  test('dry-run plan: a converged VM plans nothing', async () => {
    const root = await rootFrom('ubuntu-24.04');
    const cache = await tempDir('cache');
    // Every file in place under the temp root, every package and service as on a converged VM.
    const installed = dpkgInstalled({ curl: '8.5.0-2ubuntu10', gpg: '2.4.4-2ubuntu17', 'ca-certificates': '20240203', 'cri-o': '1.36.3-1.1', 'cri-tools': '1.36.0-1.1', 'docker.io': '26.1.3-0ubuntu1', conmon: '2.1.10+ds1-1build2', crun: '1.14.1-1', 'containernetworking-plugins': '1.1.1+ds1-3build1', skopeo: '1.13.3+ds1-2' });
    await fs.mkdir(path.join(root, 'etc/apt/keyrings'), { recursive: true });
    await fs.mkdir(path.join(root, 'usr/local/bin'), { recursive: true });
    await fs.writeFile(path.join(root, 'etc/apt/keyrings/cri-o-apt-keyring.gpg'), 'key');
    await fs.writeFile(path.join(root, 'etc/apt/keyrings/kubernetes-apt-keyring.gpg'), 'key');
    const ctx0 = testContext(root, new FakeRunner(), { dryRun: false, yes: true, cacheDir: cache });
    await ctx0.files.install(CRIO_REPO.list, renderSourcesList(CRIO_REPO));
    await ctx0.files.install(KUBERNETES_REPO.list, renderSourcesList(KUBERNETES_REPO));
    await fs.writeFile(path.join(root, 'usr/local/bin/cosign'), 'cosign');
    // The release's checksums, downloaded by an earlier setup, list the installed bytes.
    await fs.mkdir(path.join(cache, 'downloads/cosign@v3.1.2'), { recursive: true });
    await fs.writeFile(path.join(cache, `downloads/cosign@v3.1.2/cosign_checksums.txt`), `${createHash('sha256').update('cosign').digest('hex')}  cosign-linux-${releaseArch()}\n`);
    await ctx0.files.install('/etc/crio/crio.conf.d/99-crio-sigpoc.conf', renderCrioDropin(await dropinSettings(ctx0, await detectHost(root), 'packages')));

    const fake = new FakeRunner((cmd) => {
      if (cmd.file === 'dpkg-query') return installed;
      if (cmd.file === 'systemctl' && cmd.args[0] === 'is-active') return { exitCode: 0 };
      if (cmd.file === 'crictl' || cmd.file === 'docker') return { exitCode: 0 };
      return undefined;
    });
    const ctx = testContext(root, fake, { dryRun: true, cacheDir: cache });
    const outcome = await setup(ctx, { ...ctx.opts, from: 'packages' }, noTty);
    assert.deepEqual(ctx.recorder.actions, []);
    const steps = (outcome.json as { steps: { id: string; changed: boolean }[] }).steps;
    assert.deepEqual(
      steps.filter((s) => s.changed).map((s) => s.id),
      [],
    );
  });
});
