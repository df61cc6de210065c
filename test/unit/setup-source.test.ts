// The lab path (--from source) against a fake runner under a temp root: what it builds with an
// empty cache, that a full cache builds nothing, and that a second run on a converged tree does
// nothing. The real builds and the real CRI-O run in the end-to-end suite.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setupMachine as setup } from '../../src/setup/machine.js';
import type { Command } from '../../src/core/command.js';
import { LAB_BINARIES } from '../../src/setup/binaries.js';
import { cachedBinary, COSIGN_V2, CRICTL, crioBuildStep, goInstallStep, pinnsBuildStep } from '../../src/setup/go-build.js';
import { LAB_PACKAGES } from '../../src/setup/index.js';
import { renderCrioUnit } from '../../src/services/systemd-units.js';
import { dpkgInstalled, FakeRunner, planOf, rootFrom, tempDir, testContext } from './setup-fakes.js';

const noTty = { tty: false, confirm: async () => false };
const allLabPackages = dpkgInstalled(Object.fromEntries(LAB_PACKAGES.map((p) => [p.name, '1.0-1'])));

/** A converged lab host as far as programs go: packages installed, Go present, dockerd up, CRI-O up once started. */
function labMachine() {
  let crioUp = false;
  const fake = new FakeRunner(
    (cmd) => {
      if (cmd.file === 'dpkg-query') return allLabPackages;
      if (cmd.file === 'go' && cmd.args[0] === 'env') return { exitCode: 0, stdout: 'go1.26.8' };
      if (cmd.file === 'docker') return { exitCode: 0, stdout: '26.1.5' };
      if (cmd.file === 'crictl') return { exitCode: crioUp ? 0 : 1 };
      return undefined;
    },
    (cmd) => {
      if (cmd.file === 'crio') crioUp = true;
    },
  );
  return fake;
}

async function fillCache(cache: string): Promise<void> {
  for (const p of LAB_BINARIES) {
    const bin = cachedBinary({ cacheDir: cache } as Parameters<typeof cachedBinary>[0], p.built);
    await fs.mkdir(path.dirname(bin), { recursive: true });
    await fs.writeFile(bin, `#!/bin/true ${p.built.name}@${p.built.version}\n`, { mode: 0o755 });
  }
}


describe('setup --from source', () => {
  test('dry-run plan with an empty cache: each pinned build, into a temporary name', async () => {
    const root = await rootFrom('debian-12', { systemd: false });
    const cache = await tempDir('cache');
    const ctx = testContext(root, labMachine(), { dryRun: true, cacheDir: cache });
    await setup(ctx, { ...ctx.opts, from: 'source' }, noTty);
    const builds = planOf(ctx.recorder.actions, { [cache]: 'CACHE' }).filter((l) => l.startsWith('build-'));
    assert.deepEqual(builds, [
      'build-crictl: go install sigs.k8s.io/cri-tools/cmd/crictl@v1.36.0',
      'build-cosign: go install github.com/sigstore/cosign/v3/cmd/cosign@v3.1.2',
      'build-cosign-v2: go install github.com/sigstore/cosign/v2/cmd/cosign@v2.6.4',
      'build-crio: go mod download -json github.com/cri-o/cri-o@v1.36.3',
      'build-crio: go -C <Dir of github.com/cri-o/cri-o@v1.36.3> build -trimpath -tags containers_image_openpgp exclude_graphdriver_btrfs seccomp -o CACHE/go/crio@v1.36.3/crio.tmp ./cmd/crio',
      'build-pinns: gcc -std=c99 -Os -Wall -static -o CACHE/go/pinns@v1.36.3/pinns.tmp <Dir of github.com/cri-o/cri-o@v1.36.3>/pinns/src/*.c',
    ]);
    const crio = ctx.recorder.actions.find((a) => a.kind === 'run' && a.argv.includes('./cmd/crio'));
    assert.ok(crio?.kind === 'run');
    assert.deepEqual(crio.env, ['CGO_ENABLED']);
    const crictl = ctx.recorder.actions.find((a) => a.kind === 'run' && a.step === 'build-crictl');
    assert.ok(crictl?.kind === 'run');
    assert.deepEqual(crictl.env, ['GOBIN']);
  });

  test('dry-run plan with a full cache: no build, not even a look for Go', async () => {
    const root = await rootFrom('debian-12', { systemd: false });
    const cache = await tempDir('cache');
    await fillCache(cache);
    const fake = labMachine();
    const ctx = testContext(root, fake, { dryRun: true, cacheDir: cache });
    await setup(ctx, { ...ctx.opts, from: 'source' }, noTty);
    assert.deepEqual(fake.calls.filter((c) => c.file === 'go' || c.file === 'gcc'), []);
    assert.deepEqual(ctx.recorder.actions.filter((a) => a.step.startsWith('build-')), []);
    const installs = planOf(ctx.recorder.actions, { [root]: 'ROOT' }).filter((l) => /^install-(tools|crio-binaries):/.test(l));
    assert.deepEqual(installs, [
      ...['crictl', 'cosign', 'cosign-v2'].map((b) => `install-tools: write ROOT/usr/local/bin/${b}`),
      ...['crio', 'pinns'].map((b) => `install-crio-binaries: write ROOT/usr/local/bin/${b}`),
    ]);
  });

  test('a real run converges, and a second run does nothing at all', async () => {
    const root = await rootFrom('debian-12', { systemd: false });
    const cache = await tempDir('cache');
    await fillCache(cache);
    const fake = labMachine();
    const first = testContext(root, fake, { dryRun: false, yes: true, cacheDir: cache });
    await setup(first, { ...first.opts, from: 'source' }, noTty);

    // Both cosign lines on PATH, byte for byte the cached builds.
    assert.deepEqual(await fs.readFile(path.join(root, 'usr/local/bin/cosign-v2')), await fs.readFile(cachedBinary(first, COSIGN_V2)));
    assert.equal((await fs.stat(path.join(root, 'usr/local/bin/crictl'))).mode & 0o777, 0o755);
    const dropin = await fs.readFile(path.join(root, 'etc/crio/crio.conf.d/99-crio-sigpoc.conf'), 'utf8');
    assert.match(dropin, /pause_image = "127\.0\.0\.1:5003\/pause:3\.10"/);
    assert.match(dropin, /cgroup_manager = "cgroupfs"/);
    const cni = JSON.parse(await fs.readFile(path.join(root, 'etc/cni/net.d/10-crio-sigpoc-bridge.conflist'), 'utf8'));
    assert.equal(cni.name, 'crio-sigpoc');
    assert.equal(cni.plugins[0].ipam.ranges[0][0].subnet, '10.85.0.0/16');
    assert.deepEqual(
      fake.started.map((c) => c.file),
      ['crio'],
    );
    // clean-all restores from this ledger: every file setup wrote is in it.
    const ledger = JSON.parse(await fs.readFile(path.join(root, 'var/lib/crio-sigpoc/ledger.json'), 'utf8')).files;
    for (const f of ['usr/local/bin/crio', 'usr/local/bin/cosign', 'etc/crio/crio.conf.d/99-crio-sigpoc.conf', 'etc/cni/net.d/10-crio-sigpoc-bridge.conflist']) {
      assert.ok(path.join(root, f) in ledger, `${f} in the ledger`);
    }

    fake.calls.length = 0;
    const second = testContext(root, fake, { dryRun: false, yes: true, cacheDir: cache });
    const outcome = await setup(second, { ...second.opts, from: 'source' }, noTty);
    const steps = (outcome.json as { steps: { id: string; changed: boolean }[] }).steps;
    assert.deepEqual(
      steps.filter((s) => s.changed).map((s) => s.id),
      [],
    );
    assert.deepEqual(second.recorder.actions, []);
    assert.deepEqual(
      fake.calls.filter((c) => !c.readOnly),
      [],
    );
    assert.equal(fake.started.length, 1);
  });

  test('a changed drop-in is rewritten and CRI-O restarted to read it', async () => {
    const root = await rootFrom('debian-12', { systemd: false });
    const cache = await tempDir('cache');
    await fillCache(cache);
    const fake = labMachine();
    const first = testContext(root, fake, { dryRun: false, yes: true, cacheDir: cache });
    await setup(first, { ...first.opts, from: 'source' }, noTty);
    await fs.writeFile(path.join(root, 'etc/crio/crio.conf.d/99-crio-sigpoc.conf'), '[crio.runtime]\ncgroup_manager = "systemd"\n');
    const again = testContext(root, fake, { dryRun: false, yes: true, cacheDir: cache });
    const steps = (await setup(again, { ...again.opts, from: 'source' }, noTty)).json as { steps: { id: string; changed: boolean; before: { state: string } }[] };
    const changed = steps.steps.filter((s) => s.changed).map((s) => `${s.id}:${s.before.state}`);
    assert.deepEqual(changed, ['crio-dropin:drift', 'crio-service:drift']);
  });
});

describe('builds land in the cache only when complete', () => {
  test('go install goes to a private GOBIN and the binary is moved into <cache>/go/<name>@<version>/', async () => {
    const root = await rootFrom('debian-12', { systemd: false });
    const cache = await tempDir('cache');
    const fake = new FakeRunner(async (cmd) => {
      if (cmd.args[0] === 'env') return { exitCode: 0, stdout: 'go1.26.8' };
      await fs.mkdir(cmd.env!.GOBIN, { recursive: true });
      await fs.writeFile(path.join(cmd.env!.GOBIN, 'crictl'), 'built');
      return { exitCode: 0 };
    });
    const ctx = testContext(root, fake, { dryRun: false, cacheDir: cache });
    const step = goInstallStep('build-crictl', CRICTL);
    await step.apply(ctx);
    assert.equal(await fs.readFile(path.join(cache, 'go/crictl@v1.36.0/crictl'), 'utf8'), 'built');
    assert.deepEqual(await fs.readdir(path.join(cache, 'go/crictl@v1.36.0')), ['crictl']);
    assert.equal((await step.check(ctx)).state, 'done');
  });

  test('a failed build leaves no binary in the cache: the next run builds again', async () => {
    const root = await rootFrom('debian-12', { systemd: false });
    const cache = await tempDir('cache');
    const fake = new FakeRunner(async (cmd) => {
      if (cmd.args[0] === 'env') return { exitCode: 0, stdout: 'go1.26.8' };
      await fs.mkdir(cmd.env!.GOBIN, { recursive: true });
      await fs.writeFile(path.join(cmd.env!.GOBIN, 'crictl'), 'half');
      return { exitCode: 2, stderr: 'signal: killed' };
    });
    const ctx = testContext(root, fake, { dryRun: false, cacheDir: cache });
    const step = goInstallStep('build-crictl', CRICTL);
    await assert.rejects(step.apply(ctx), /signal: killed/);
    assert.equal((await step.check(ctx)).state, 'todo');
  });

  test("CRI-O builds inside the module's Dir from go mod download; pinns compiles exactly its .c files", async () => {
    const root = await rootFrom('debian-12', { systemd: false });
    const cache = await tempDir('cache');
    const moduleDir = await tempDir('cri-o@v1.36.3');
    await fs.mkdir(path.join(moduleDir, 'pinns/src'), { recursive: true });
    for (const f of ['sysctl.c', 'pinns.c', 'utils.h', 'sysctl.h']) await fs.writeFile(path.join(moduleDir, 'pinns/src', f), '');
    const writeOutput = async (cmd: Command) => fs.writeFile(cmd.args[cmd.args.indexOf('-o') + 1], 'elf');
    const fake = new FakeRunner(async (cmd) => {
      if (cmd.file === 'go' && cmd.args[0] === 'env') return { exitCode: 0, stdout: 'go1.26.8' };
      if (cmd.file === 'go' && cmd.args[0] === 'mod') return { exitCode: 0, stdout: JSON.stringify({ Path: 'github.com/cri-o/cri-o', Version: 'v1.36.3', Dir: moduleDir }) };
      await writeOutput(cmd);
      return { exitCode: 0 };
    });
    const ctx = testContext(root, fake, { dryRun: false, cacheDir: cache });
    await crioBuildStep().apply(ctx);
    await pinnsBuildStep().apply(ctx);
    const build = fake.calls.find((c) => c.args.includes('build'));
    assert.deepEqual(build?.args, ['-C', moduleDir, 'build', '-trimpath', '-tags', 'containers_image_openpgp exclude_graphdriver_btrfs seccomp', '-o', path.join(cache, 'go/crio@v1.36.3/crio.tmp'), './cmd/crio']);
    assert.deepEqual(build?.env, { CGO_ENABLED: '1' });
    const gcc = fake.calls.find((c) => c.file === 'gcc');
    assert.deepEqual(gcc?.args.slice(-2), [path.join(moduleDir, 'pinns/src/pinns.c'), path.join(moduleDir, 'pinns/src/sysctl.c')]);
    assert.equal(fake.calls.filter((c) => c.args[0] === 'mod').length, 1, 'the module is downloaded once per run');
    assert.equal(await fs.readFile(path.join(cache, 'go/pinns@v1.36.3/pinns'), 'utf8'), 'elf');
    assert.equal(await fs.readFile(path.join(cache, 'go/crio@v1.36.3/crio'), 'utf8'), 'elf');
  });
});

describe('setup --from source on a systemd host (a VM without the package repositories)', () => {
  test('dry-run plan: the tool writes crio.service before it enables it, and the unit runs the installed build', async () => {
    const root = await rootFrom('debian-12');
    const cache = await tempDir('cache');
    await fillCache(cache);
    const ctx = testContext(root, labMachine(), { dryRun: true, cacheDir: cache });
    await setup(ctx, { ...ctx.opts, from: 'source' }, noTty);
    const plan = planOf(ctx.recorder.actions, { [root]: 'ROOT' });
    const written = plan.indexOf('crio-unit: write ROOT/etc/systemd/system/crio.service');
    const enabled = plan.indexOf('crio-service: [root] systemctl enable --now crio.service');
    assert.ok(written >= 0 && enabled > written, plan.join('\n'));
    assert.ok(plan.includes('crio-dropin: write ROOT/etc/crio/crio.conf.d/99-crio-sigpoc.conf'));
    const unit = renderCrioUnit('/usr/local/bin/crio');
    assert.equal(unit.path, '/etc/systemd/system/crio.service');
    assert.match(unit.content, /^Type=notify$/m);
    assert.match(unit.content, /^ExecStart=\/usr\/local\/bin\/crio$/m);
    assert.match(unit.content, /^ExecReload=\/bin\/kill -s HUP \$MAINPID$/m);
    assert.match(unit.content, /^WantedBy=multi-user\.target$/m);
  });

  test('a real run under a systemd root: the unit lands in the ledger (clean-all removes it) and the drop-in says cgroup_manager systemd', async () => {
    const root = await rootFrom('debian-12');
    const cache = await tempDir('cache');
    await fillCache(cache);
    // systemd starts CRI-O here: crictl answers once crio.service is enabled and started.
    let crioUp = false;
    const fake = new FakeRunner((cmd) => {
      if (cmd.file === 'dpkg-query') return allLabPackages;
      if (cmd.file === 'docker') return { exitCode: 0, stdout: '26.1.5' };
      if (cmd.file === 'crictl') return { exitCode: crioUp ? 0 : 1 };
      if (cmd.file === 'systemctl') {
        if (cmd.args.join(' ') === 'enable --now crio.service') crioUp = true;
        return { exitCode: cmd.args[0] === 'is-active' && !crioUp && cmd.args.includes('crio.service') ? 3 : 0 };
      }
      return undefined;
    });
    const ctx = testContext(root, fake, { dryRun: false, yes: true, cacheDir: cache });
    await setup(ctx, { ...ctx.opts, from: 'source' }, noTty);
    const systemctl = fake.calls.filter((c) => c.file === 'systemctl' && !c.readOnly).map((c) => c.args.join(' '));
    // Under --root the live systemd is left alone: no daemon-reload for a unit written into another tree.
    assert.deepEqual(systemctl, ['enable --now crio.service']);
    assert.equal(await fs.readFile(path.join(root, 'etc/systemd/system/crio.service'), 'utf8'), renderCrioUnit('/usr/local/bin/crio').content);
    const ledger = JSON.parse(await fs.readFile(path.join(root, 'var/lib/crio-sigpoc/ledger.json'), 'utf8')).files;
    assert.ok(path.join(root, 'etc/systemd/system/crio.service') in ledger);
    assert.match(await fs.readFile(path.join(root, 'etc/crio/crio.conf.d/99-crio-sigpoc.conf'), 'utf8'), /cgroup_manager = "systemd"/);
  });
});
