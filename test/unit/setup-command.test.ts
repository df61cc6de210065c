// What a user of `setup` relies on before anything is installed: which systems it accepts, that
// it asks first, what it says about rebooting, and the CRI-O settings it chooses for the host.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { rebootAdvice, setupMachine as setup } from '../../src/setup/machine.js';
import { EXIT } from '../../src/core/errors.js';
import { detectHost, parseOsRelease } from '../../src/core/host.js';
import { renderCrioDropin } from '../../src/crio/dropin.js';
import { dropinSettings } from '../../src/setup/crio-dropin.js';
import { FakeRunner, rootFrom, snapshot, tempDir, testContext } from './setup-fakes.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli.ts');
const noTty = { tty: false, confirm: async () => false };

/** The CLI as a user runs it, stdin not a terminal; resolves with the exit code and output. */
async function runCli(args: string[], env: Record<string, string> = {}) {
  try {
    const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', cli, ...args], { env: { ...process.env, ...env } });
    return { code: 0, ...r };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('setup refuses unsupported systems', () => {
  test('Fedora: exit 3 naming the supported systems, nothing planned', async () => {
    const root = await rootFrom('fedora-41');
    const ctx = testContext(root, new FakeRunner(), { dryRun: true, cacheDir: await tempDir('cache') });
    await assert.rejects(setup(ctx, { ...ctx.opts, from: 'packages' }, noTty), (e: Error & { exitCode?: number; next?: string }) => {
      assert.equal(e.exitCode, EXIT.environment);
      assert.match(e.message, /supports Ubuntu 24\.04 or Debian 12; this is Fedora Linux 41/);
      assert.match(e.next ?? '', /--force/);
      return true;
    });
    assert.deepEqual(ctx.recorder.actions, []);
  });

  test('Fedora with --force: the plan goes ahead', async () => {
    const root = await rootFrom('fedora-41');
    const ctx = testContext(root, new FakeRunner(), { dryRun: true, cacheDir: await tempDir('cache') });
    const outcome = await setup(ctx, { ...ctx.opts, from: 'packages', force: true }, noTty);
    assert.equal(outcome.exitCode, 0);
    assert.ok(ctx.recorder.actions.some((a) => a.kind === 'run' && a.argv.includes('cri-o=1.36.*')));
  });

  test('the CLI exits 3 on an unsupported system, even for --dry-run', async () => {
    const root = await rootFrom('fedora-41');
    const r = await runCli(['setup', '--dry-run', '--root', root]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /this is Fedora Linux 41/);
  });
});

describe('setup asks before it changes a machine', () => {
  test('no terminal and no --yes: exit 2 saying to pass --yes, nothing run', async () => {
    const root = await rootFrom('debian-12');
    const before = await snapshot(root);
    const fake = new FakeRunner();
    const ctx = testContext(root, fake, { dryRun: false, yes: false, cacheDir: await tempDir('cache') });
    await assert.rejects(setup(ctx, { ...ctx.opts, from: 'source' }, noTty), (e: Error & { exitCode?: number; next?: string }) => {
      assert.equal(e.exitCode, EXIT.usage);
      assert.match(e.next ?? '', /--yes/);
      return true;
    });
    assert.deepEqual(fake.calls, []);
    assert.deepEqual(await snapshot(root), before);
  });

  test('the CLI without a terminal and without --yes exits 2', async () => {
    // The real root (nothing is changed before the question); state and cache kept in temp dirs.
    const env = { CRIO_SIGPOC_STATE_DIR: await tempDir('state'), CRIO_SIGPOC_CACHE_DIR: await tempDir('cache') };
    const r = await runCli(['setup', '--from', 'source', '--force'], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pass --yes/);
  });

  test('the CLI refuses a real run under --root: apt-get and services cannot be redirected', async () => {
    const root = await rootFrom('debian-12');
    const before = await snapshot(root);
    const r = await runCli(['setup', '--root', root, '--yes'], { CRIO_SIGPOC_CACHE_DIR: await tempDir('cache') });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--dry-run/);
    const after = await snapshot(root);
    // Only the run lock may appear in the tree's state directory.
    assert.deepEqual(Object.fromEntries(Object.entries(after).filter(([p]) => !p.startsWith('var/lib/crio-sigpoc/'))), before);
  });

  test('on a terminal, the question lists every change; no means exit 2 and nothing run', async () => {
    const root = await rootFrom('debian-12');
    const fake = new FakeRunner();
    const ctx = testContext(root, fake, { dryRun: false, cacheDir: await tempDir('cache') });
    const shown: string[] = [];
    ctx.log = { info: (m) => shown.push(m), warn: () => {}, debug: () => {} };
    let asked = '';
    const io = { tty: true, confirm: async (q: string) => ((asked = q), false) };
    await assert.rejects(setup(ctx, { ...ctx.opts, from: 'source' }, io), (e: Error & { exitCode?: number }) => e.exitCode === EXIT.usage);
    assert.match(asked, /dedicated VM/);
    assert.match(shown.join('\n'), /99-crio-sigpoc\.conf/);
    assert.match(shown.join('\n'), /\/usr\/local\/bin/);
    assert.deepEqual(fake.calls, []);
  });

  test('--dry-run asks nothing, even without a terminal', async () => {
    const root = await rootFrom('debian-12');
    const ctx = testContext(root, new FakeRunner(), { dryRun: true, cacheDir: await tempDir('cache') });
    const io = { tty: false, confirm: async () => assert.fail('dry-run must not ask') };
    assert.equal((await setup(ctx, { ...ctx.opts, from: 'source' }, io)).exitCode, 0);
  });
});

describe('setup says whether a reboot is needed, and why', () => {
  test('a package left /var/run/reboot-required: needed, naming the package', async () => {
    const root = await rootFrom('ubuntu-24.04');
    await fs.mkdir(path.join(root, 'var/run'), { recursive: true });
    await fs.writeFile(path.join(root, 'var/run/reboot-required'), '*** System restart required ***\n');
    await fs.writeFile(path.join(root, 'var/run/reboot-required.pkgs'), 'linux-image-6.8.0-60-generic\nlinux-base\nlinux-base\n');
    const advice = await rebootAdvice(testContext(root, new FakeRunner(), { dryRun: false }));
    assert.equal(advice.needed, true);
    assert.match(advice.why, /asked for by linux-image-6\.8\.0-60-generic, linux-base\)/);
  });

  test('no flag: not needed', async () => {
    const root = await rootFrom('ubuntu-24.04');
    const advice = await rebootAdvice(testContext(root, new FakeRunner(), { dryRun: false }));
    assert.equal(advice.needed, false);
    assert.match(advice.why, /reboot-required is absent/);
  });
});

describe('host detection and the CRI-O settings that follow from it', () => {
  test('os-release values are unquoted', () => {
    const rel = parseOsRelease('PRETTY_NAME="Ubuntu 24.04.2 LTS"\nID=ubuntu\nVERSION_ID="24.04"\n# comment\n');
    assert.deepEqual(rel, { PRETTY_NAME: 'Ubuntu 24.04.2 LTS', ID: 'ubuntu', VERSION_ID: '24.04' });
  });

  test('cgroup manager: systemd when PID 1 is systemd, cgroupfs (conmon in the pod cgroup) otherwise', async () => {
    for (const [systemd, manager] of [
      [true, 'systemd'],
      [false, 'cgroupfs'],
    ] as const) {
      const root = await rootFrom('debian-12', { systemd });
      const host = await detectHost(root);
      assert.equal(host.systemd, systemd);
      const ctx = testContext(root, new FakeRunner());
      const text = renderCrioDropin(await dropinSettings(ctx, host, 'packages'));
      assert.match(text, new RegExp(`cgroup_manager = "${manager}"`));
      assert.equal(text.includes('conmon_cgroup = "pod"'), !systemd);
    }
  });

  test('drop-in per path: the VM pulls pause from registry.k8s.io, the lab from the local registry with overlay and Debian CNI plugins', async () => {
    const root = await rootFrom('debian-12', { systemd: false });
    const ctx = testContext(root, new FakeRunner());
    const host = await detectHost(root);
    assert.deepEqual(await dropinSettings(ctx, host, 'packages'), { cgroupManager: 'cgroupfs', pauseImage: 'registry.k8s.io/pause:3.10', signaturePolicy: '/etc/crio/policy.json', logLevel: 'debug' });
    assert.deepEqual(await dropinSettings(ctx, host, 'source'), {
      cgroupManager: 'cgroupfs',
      pauseImage: '127.0.0.1:5003/pause:3.10',
      signaturePolicy: '/etc/crio/policy.json',
      storageDriver: 'overlay',
      logLevel: 'debug',
      cniPluginDirs: ['/usr/lib/cni'],
      runtime: { name: 'runc', path: '/usr/bin/runc', root: '/run/runc' },
    });
  });

  test('signature_policy keeps the path another config file chose, and ignores our own drop-in', async () => {
    const root = await rootFrom('ubuntu-24.04');
    await fs.mkdir(path.join(root, 'etc/crio/crio.conf.d'), { recursive: true });
    await fs.writeFile(path.join(root, 'etc/crio/crio.conf.d/10-crio.conf'), '[crio.image]\nsignature_policy = "/etc/crio/site-policy.json"\n');
    await fs.writeFile(path.join(root, 'etc/crio/crio.conf.d/99-crio-sigpoc.conf'), '[crio.image]\nsignature_policy = "/elsewhere.json"\n');
    const ctx = testContext(root, new FakeRunner());
    const s = await dropinSettings(ctx, await detectHost(root), 'packages');
    assert.equal(s.signaturePolicy, '/etc/crio/site-policy.json');
  });
});
