// The README's flow on the machine it is written for: a Debian 12 guest with systemd as PID 1,
// cgroup v2, journald and a normal user with sudo. The checkout and the host's Go binary cache are
// shared in read-only; everything else the guest gets the way a user's VM would.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { defaultCacheDir, type Context } from '../../src/core/context.js';
import { LAB_BINARIES } from '../../src/setup/binaries.js';
import { MATRIX } from '../../src/verify/matrix/cases.js';
import { cachedBinary } from '../../src/setup/go-build.js';
import { Guest, reapStaleGuests } from './guest.js';
import type { RunResult } from './guest.js';
import { guestImage, requireHostPrograms, SHARES } from './image.js';
import { npmSeed } from './npm-seed.js';

const repo = path.resolve(import.meta.dirname, '../..');
/** The host's binary cache (CRIO_SIGPOC_CACHE_DIR, as the tool reads it), shared in read-only. */
const hostGoCache = path.join(defaultCacheDir(), 'go');
const HOME = '/home/user';
const CHECKOUT = `${HOME}/crio-sigpoc`;
/** Where the guest mounts its copy of the host's npm seed (writable: npm adds to its cache). */
const NPM_CACHE = '/var/cache/crio-sigpoc-npm';
const timings: Record<string, number> = {};
/**
 * The matrix cases whose outcome depends on the machine: the verdict and the policy file read
 * from the journal (signed, unsigned, other-key), a pod sandbox and a container created under
 * systemd's cgroup manager (preloaded) and the per-namespace policy directory (namespace-*). The
 * others test what the library decides about registry content, which is the same on every host;
 * the host's e2e suite runs them. The whole matrix under emulation costs about 7–11 minutes a run.
 */
const GUEST_CASES = ['signed', 'unsigned', 'other-key', 'preloaded', 'namespace-open', 'namespace-closed'];
/** Where a run leaves CRI-O's real journal entries (journalctl -o json), to be kept as a recording. */
const JOURNAL_RECORDING = '/tmp/crio-sigpoc-vm-crio-journal.jsonl';
const log = (s: string): void => void process.stderr.write(`vm: ${s}\n`);

let guest: Guest | undefined;
let failedStep: string | undefined;

/** install.sh's `+ command` lines, each with the `(N s)` it printed when the command ended (its output comes between). */
function commandSeconds(stdout: string): string[] {
  const out: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith('+ ')) out.push(line.slice(2));
    const took = /^ {2}\((\d+) s\)$/.exec(line);
    if (took && out.length) out[out.length - 1] += ` (${took[1]} s)`;
  }
  return out;
}
const explain = (r: RunResult): string => `exit ${r.exitCode} after ${r.seconds} s\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

/** A step of the flow: later steps stand on earlier ones, so after a failure they fail at once, saying why. */
function step(name: string, timeoutMs: number, fn: (g: Guest) => Promise<void>): void {
  test(name, { timeout: timeoutMs }, async () => {
    if (failedStep) throw new Error(`not run: the earlier step "${failedStep}" failed`);
    if (!guest) throw new Error('no guest: its boot failed (see the first failure)');
    const started = Date.now();
    try {
      await fn(guest);
    } catch (e) {
      failedStep = name;
      throw new Error(`${(e as Error).message}\n--- guest journal (last 60 lines) ---\n${await journalTail(guest)}\n--- console (last 40 lines) ---\n${guest.consoleTail(40)}`);
    } finally {
      timings[name] = Math.round((Date.now() - started) / 1000);
      log(`${name}: ${timings[name]} s`);
    }
  });
}

async function journalTail(g: Guest): Promise<string> {
  const r = await g.run(['sudo', 'journalctl', '-b', '-n', '60', '--no-pager'], { timeoutMs: 30_000 }).catch((e: Error) => ({ stdout: e.message }));
  return r.stdout;
}

/** Every entry under /etc (type, mode, owner, target or content hash), as root sees it. */
async function etcListing(g: Guest): Promise<Map<string, string>> {
  const meta = await g.must(['sudo', 'find', '/etc', '-xdev', '-printf', '%y %m %u:%g %p -> %l\\n'], { timeoutMs: 120_000 });
  const sums = await g.must(['sudo', 'find', '/etc', '-xdev', '-type', 'f', '-exec', 'sha256sum', '{}', '+'], { timeoutMs: 120_000 });
  const out = new Map<string, string>();
  for (const line of meta.stdout.split('\n').filter(Boolean)) {
    const m = /^(\S+) (\S+) (\S+) (.*) -> (.*)$/.exec(line);
    if (m) out.set(m[4], `${m[1]} ${m[2]} ${m[3]}${m[5] ? ` -> ${m[5]}` : ''}`);
  }
  for (const line of sums.stdout.split('\n').filter(Boolean)) {
    const m = /^([0-9a-f]{64})\s+(.*)$/.exec(line);
    if (m) out.set(m[2], `${out.get(m[2]) ?? ''} ${m[1]}`);
  }
  return out;
}

function listingDiff(a: Map<string, string>, b: Map<string, string>): string[] {
  const d: string[] = [];
  for (const [k, v] of a) if (b.get(k) !== v) d.push(b.has(k) ? `changed: ${k} (${v} → ${b.get(k)})` : `gone: ${k}`);
  for (const k of b.keys()) if (!a.has(k)) d.push(`new: ${k} (${b.get(k)})`);
  return d;
}

/**
 * What the harness gives the guest that is not part of the user's flow. This machine's network
 * inspects TLS with its own CA (the host trusts it in /usr/local/share/ca-certificates): the guest
 * gets the same trust at run time, so that the image stays the same across machines. And npm
 * reads its cache from the host's seed (prefer-offline), so install.sh's downloads come from the
 * host instead of the network; what the seed lacks npm still fetches.
 */
async function harnessEnvironment(g: Guest): Promise<void> {
  const dir = '/usr/local/share/ca-certificates';
  const certs = (await fs.readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.crt'));
  for (const c of certs) await g.must(['sudo', 'tee', `${dir}/${c}`], { input: await fs.readFile(path.join(dir, c), 'utf8') });
  // Under emulation on a busy host the rehash of every certificate takes minutes.
  if (certs.length) await g.must(['sudo', 'update-ca-certificates'], { timeoutMs: 600_000 });
  await g.must(['sudo', 'mkdir', '-p', NPM_CACHE]);
  await g.must(['sudo', 'mount', '-t', '9p', '-o', 'trans=virtio,version=9p2000.L,msize=262144', 'npmcache', NPM_CACHE]);
  const npmrc = [...(certs.length ? ['cafile=/etc/ssl/certs/ca-certificates.crt'] : []), `cache=${NPM_CACHE}`, 'prefer-offline=true', ''];
  await g.must(['sudo', 'tee', '/etc/npmrc'], { input: npmrc.join('\n') });
}

/**
 * The host's Go-built lab binaries: nothing is built in the guest, so they must all be there. When
 * the host suite builds them at the same time (`npm run test:system` runs both suites at once),
 * CRIO_SIGPOC_VM_WAIT_FOR_LAB gives it that many seconds to finish them.
 */
async function requireGoCache(): Promise<void> {
  const ctx = { cacheDir: path.dirname(hostGoCache) } as Context;
  const deadline = Date.now() + 1000 * (Number(process.env.CRIO_SIGPOC_VM_WAIT_FOR_LAB) || 0);
  for (;;) {
    const missing: string[] = [];
    for (const p of LAB_BINARIES) {
      const f = cachedBinary(ctx, p.built);
      if (!(await fs.access(f).then(() => true, () => false))) missing.push(f);
    }
    if (!missing.length) return;
    if (Date.now() >= deadline) throw new Error(`the guest uses the host's built lab binaries and these are missing: ${missing.join(', ')}; build them on the host with: sudo crio-sigpoc setup --from source`);
    await new Promise((res) => setTimeout(res, 10_000));
  }
}

/** The checkout as git sees it (tracked and untracked, not ignored): what a user clones. */
async function checkoutCopy(dest: string): Promise<void> {
  const r = await execa('git', ['-C', repo, 'ls-files', '-z', '--cached', '--others', '--exclude-standard']);
  for (const f of String(r.stdout).split('\0').filter(Boolean)) {
    const src = path.join(repo, f);
    if (!(await fs.lstat(src).then((s) => s.isFile(), () => false))) continue;
    await fs.mkdir(path.dirname(path.join(dest, f)), { recursive: true });
    await fs.copyFile(src, path.join(dest, f));
    await fs.chmod(path.join(dest, f), (await fs.stat(src)).mode & 0o777);
  }
}

/** `crio-sigpoc test --json` gave every guest case its verdict, for its reason, from the policy file it must. */
function assertVerdicts(r: RunResult): void {
  assert.equal(r.exitCode, 0, explain(r));
  const { verdicts } = JSON.parse(r.stdout) as { verdicts: { name: string; actual: string; reason: string; policyPath?: string; pass: boolean }[] };
  assert.deepEqual(verdicts.map((v) => v.name), GUEST_CASES, 'every guest case ran, in order');
  for (const v of verdicts) {
    const c = MATRIX.find((m) => m.name === v.name)!;
    assert.equal(v.actual, c.expected, `${v.name}: ${v.reason}`);
    if (c.expected === 'rejected') {
      assert.match(v.reason, /SignatureValidationFailed/, v.name);
      assert.match(v.reason, c.reason!, v.name);
    }
    // Read from CRI-O's journal: under systemd there is no log file to read it from.
    assert.equal(v.policyPath, v.name === 'namespace-open' ? '/etc/crio/policies/sigpoc-open.json' : '/etc/crio/policy.json', v.name);
  }
}

describe('a Debian 12 guest with systemd: the README flow', { timeout: 60 * 60_000 }, () => {
  let etcBefore: Map<string, string>;
  const sigpoc = (g: Guest, args: string[], timeoutMs = 20 * 60_000) => g.run(['crio-sigpoc', ...args], { timeoutMs, env: { NO_COLOR: '1' } });
  const sudoSigpoc = (g: Guest, args: string[], timeoutMs = 20 * 60_000) => g.run(['sudo', 'crio-sigpoc', ...args], { timeoutMs, env: { NO_COLOR: '1' } });

  before(async () => {
    await requireHostPrograms();
    await reapStaleGuests();
    // The image is built (when cold) while the host suite may still be building the binaries.
    const { image, built, seconds } = await guestImage(log);
    timings[built ? 'image build (cold)' : 'image (cached)'] = seconds;
    log(built ? `image built in ${seconds} s: ${image.dir}` : `image cached: ${image.dir}`);
    const waited = Date.now();
    await requireGoCache();
    if (Date.now() - waited > 1000) timings['wait for the host\'s lab binaries'] = Math.round((Date.now() - waited) / 1000);
    guest = await Guest.create(image);
    const share = path.join(guest.runDir, 'checkout');
    await checkoutCopy(share);
    guest.share('checkout', share);
    guest.share('gocache', hostGoCache);
    const seed = await npmSeed(log);
    if (seed.built) timings['npm seed (cold)'] = seed.seconds;
    // A copy per run: the guest's npm writes to its cache, the seed stays as it was filled.
    const npmCopy = path.join(guest.runDir, 'npm');
    await fs.cp(path.join(seed.dir, 'cache'), npmCopy, { recursive: true });
    guest.share('npmcache', npmCopy, { writable: true });
    const onExit = (): void => guest?.killNow();
    process.once('exit', onExit);
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => (onExit(), process.exit(130)));
    try {
      timings.boot = await guest.boot(240_000);
    } catch (e) {
      await guest.stop();
      guest = undefined;
      throw e;
    }
    log(`guest up in ${timings.boot} s, ssh on 127.0.0.1:${guest.port}`);
    await harnessEnvironment(guest);
  });

  after(async () => {
    if (guest) {
      await guest.stop();
      await guest.remove();
    }
    log(`timings (s): ${JSON.stringify(timings)}`);
  });

  step('the guest is the machine the tool is made for: systemd PID 1, cgroup v2, sudo, a normal user', 5 * 60_000, async (g) => {
    const state = await g.run(['systemctl', 'is-system-running', '--wait'], { timeoutMs: 180_000 });
    assert.match(state.stdout, /running|degraded/, explain(state));
    assert.equal((await g.must(['cat', '/proc/1/comm'])).stdout.trim(), 'systemd');
    assert.equal((await g.must(['stat', '-f', '-c', '%T', '/sys/fs/cgroup'])).stdout.trim(), 'cgroup2fs');
    assert.notEqual((await g.must(['id', '-u'])).stdout.trim(), '0');
    assert.equal((await g.must(['sudo', '-n', 'id', '-u'])).stdout.trim(), '0');
    assert.match((await g.must(['node', '--version'])).stdout, /^v18\./, 'Debian 12 ships Node 18');
    const timers = await g.must(['systemctl', 'is-enabled', 'apt-daily.timer', 'apt-daily-upgrade.timer']).catch((e: Error) => ({ stdout: e.message }));
    assert.match(timers.stdout, /masked[\s\S]*masked/);
    // The lab binaries are shared in, not built here.
    await g.must(['test', '-x', `${SHARES.gocache}/crio@v1.36.3/crio`]);
    etcBefore = await etcListing(g);
  });

  step('sudo scripts/install.sh: Node 18 is too old, Node 24 comes from npm, crio-sigpoc lands on PATH', 15 * 60_000, async (g) => {
    await g.must(['cp', '-r', SHARES.checkout, CHECKOUT]);
    const r = await g.run(['sudo', `${CHECKOUT}/scripts/install.sh`], { timeoutMs: 15 * 60_000 });
    // Where the time goes under emulation: each command install.sh ran, with its seconds.
    log(`install.sh: ${commandSeconds(r.stdout).join('; ')}`);
    assert.equal(r.exitCode, 0, explain(r));
    assert.match(r.stdout, /Node\.js >= 20\.17 is missing \(found: v18\.[^)]*\); installing node@24/, explain(r));
    assert.match(r.stdout, /installed: \/usr\/local\/bin\/crio-sigpoc/, explain(r));
    assert.match((await g.must(['node', '--version'])).stdout, /^v24\./);
    const help = await sigpoc(g, ['--help'], 60_000);
    assert.equal(help.exitCode, 0, explain(help));
  });

  step('sudo crio-sigpoc setup --from source --yes: CRI-O and dockerd are systemd units, cgroup manager systemd', 20 * 60_000, async (g) => {
    const r = await sudoSigpoc(g, ['setup', '--from', 'source', '--yes']);
    assert.equal(r.exitCode, 0, explain(r));
    assert.doesNotMatch(r.stdout + r.stderr, /\bgo (build|install)\b/, 'nothing is built in the guest');
    const crio = await g.must(['systemctl', 'show', 'crio.service', '-p', 'ActiveState', '-p', 'UnitFileState', '-p', 'Type', '-p', 'FragmentPath']);
    assert.match(crio.stdout, /ActiveState=active/, crio.stdout);
    assert.match(crio.stdout, /UnitFileState=enabled/, crio.stdout);
    assert.match(crio.stdout, /Type=notify/, crio.stdout);
    const docker = await g.must(['systemctl', 'show', 'docker.service', '-p', 'ActiveState', '-p', 'FragmentPath']);
    assert.match(docker.stdout, /ActiveState=active/, docker.stdout);
    assert.match(docker.stdout, /FragmentPath=\/lib\/systemd\/system\/docker\.service/, 'dockerd from its Debian package');
    const config = await g.must(['sudo', 'crio', 'config'], { timeoutMs: 120_000 });
    // crio config comments out values equal to its defaults: systemd, and conmon in the empty
    // conmon_cgroup (CRI-O then puts conmon in system.slice), not the cgroupfs setting "pod".
    assert.match(config.stdout, /^(# )?cgroup_manager = "systemd"$/m);
    assert.match(config.stdout, /^(# )?conmon_cgroup = ""$/m);
    const journal = await g.must(['sudo', 'journalctl', '-u', 'crio.service', '-b', '--no-pager', '-o', 'cat']);
    assert.match(journal.stdout, /Starting CRI-O|Started.*CRI-O|crio/i, 'CRI-O logs to the journal');
  });

  step('crio-sigpoc test as the normal user: the verdict matrix on the guest\'s CRI-O', 25 * 60_000, async (g) => {
    assertVerdicts(await sigpoc(g, ['test', '--json', '--case', ...GUEST_CASES]));
    const reg = await g.must(['systemctl', 'show', 'crio-sigpoc-registry.service', '-p', 'ActiveState', '-p', 'UnitFileState', '-p', 'FragmentPath']);
    assert.match(reg.stdout, /ActiveState=active/, reg.stdout);
    assert.match(reg.stdout, /UnitFileState=enabled/, reg.stdout);
  });

  step('crio-sigpoc clean, then status names the journal', 10 * 60_000, async (g) => {
    const clean = await sigpoc(g, ['clean']);
    assert.equal(clean.exitCode, 0, explain(clean));
    const status = await sigpoc(g, ['status']);
    assert.equal(status.exitCode, 0, explain(status));
    assert.match(status.stdout, /journal/i, explain(status));
    // The refusals of the run, counted from the real journal: unsigned, other-key, preloaded
    // (pull and creation) and namespace-closed at least.
    const refusals = /(\d+) in journalctl -u crio/.exec(status.stdout);
    assert.ok(refusals && Number(refusals[1]) >= 5, `status counts the run's refusals from the journal:\n${explain(status)}`);
    // watch on the real journal: the run's refusals replayed, each with CRI-O's reason.
    const watch = await g.run(['sudo', 'timeout', '--preserve-status', '--signal=INT', '60', 'crio-sigpoc', 'watch', '--json', '--since', '2h'], { timeoutMs: 120_000 });
    assert.equal(watch.exitCode, 130, `watch ends on Ctrl-C with 130:\n${explain(watch)}`);
    const events = watch.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { outcome: string; stage: string; namespace?: string; image?: string; reason?: string; policy?: string });
    const refused = events.filter((e) => e.outcome === 'rejected');
    assert.ok(refused.length >= 5, `watch replays the run's refusals:\n${explain(watch)}`);
    for (const e of refused) assert.match(e.reason ?? '', /SignatureValidationFailed/, JSON.stringify(e));
    log(`watch on the journal: ${refused.length} refusals (${[...new Set(refused.map((e) => `${e.stage} ${e.namespace ?? '-'}`))].join(', ')}), ${events.length - refused.length} accepted pulls`);
    const journal = await g.must(['sudo', 'journalctl', '-u', 'crio.service', '-b', '-o', 'json', '--all', '--no-pager', '--grep', 'PullImage|CreateContainer|Pulling image|pull policy path|SignatureValidationFailed'], { timeoutMs: 60_000 });
    await fs.writeFile(JOURNAL_RECORDING, journal.stdout);
    log(`CRI-O's journal entries of the run: ${JOURNAL_RECORDING} (the recording test/fixtures/recorded/crio-1.36.3-guest-journal.recorded.jsonl is one of these)`);
  });

  step('a real reboot: CRI-O and the registry come back by themselves, status is clean, test passes without setup', 25 * 60_000, async (g) => {
    timings['reboot (ssh back)'] = await g.reboot(300_000);
    const end = Date.now() + 180_000;
    let units: RunResult;
    do {
      units = await g.run(['systemctl', 'is-active', 'crio.service', 'crio-sigpoc-registry.service']);
      if (units.exitCode === 0) break;
      await new Promise((res) => setTimeout(res, 3_000));
    } while (Date.now() < end);
    assert.equal(units.exitCode, 0, `after the reboot: ${explain(units)}`);
    const status = await sigpoc(g, ['status']);
    assert.equal(status.exitCode, 0, explain(status));
    assertVerdicts(await sigpoc(g, ['test', '--json', '--case', ...GUEST_CASES]));
  });

  step('sudo crio-sigpoc clean-all --yes: /etc as before, no unit of the tool enabled, nothing of it running', 15 * 60_000, async (g) => {
    const r = await sudoSigpoc(g, ['clean-all', '--yes']);
    assert.equal(r.exitCode, 0, explain(r));
    const diff = listingDiff(etcBefore, await etcListing(g));
    assert.deepEqual(diff, [], `/etc differs from before setup:\n${diff.join('\n')}`);
    const units = await g.must(['systemctl', 'list-unit-files', '--no-legend', '--state=enabled']);
    assert.doesNotMatch(units.stdout, /^(crio|crio-sigpoc)[^\s]*/m, units.stdout);
    const ps = await g.must(['ps', '-eo', 'comm=,args=']);
    const ours = ps.stdout.split('\n').filter((l) => /^(crio|conmon|pinns)\s|crio-sigpoc/.test(l.trim()));
    assert.deepEqual(ours, [], `still running:\n${ours.join('\n')}`);
    // Of the state, clean-all keeps the services' logs, an empty ledger and its lock file (both
    // state dirs): no keys, registry data, records or backups.
    for (const dir of ['/var/lib/crio-sigpoc', `${HOME}/.local/state/crio-sigpoc`]) {
      const left = await g.run(['sudo', 'find', dir, '-mindepth', '1', '-not', '-path', `${dir}/logs`, '-not', '-path', `${dir}/logs/*`, '-not', '-path', `${dir}/ledger.json`, '-not', '-path', `${dir}/ledger.lock`]);
      assert.equal(left.stdout.trim(), '', `state left behind in ${dir}:\n${left.stdout}`);
      const ledger = await g.run(['sudo', 'cat', `${dir}/ledger.json`]);
      if (ledger.exitCode === 0) assert.deepEqual(Object.keys((JSON.parse(ledger.stdout) as { files?: object }).files ?? {}), [], `${dir}/ledger.json still records files`);
    }
  });
});
