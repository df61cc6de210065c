// clean-all: stop what the tool started, put back every system file it changed, and remove
// its state (registry data, keys, records). apt packages stay installed.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Context } from '../core/context.js';
import { must, ok } from '../core/command.js';
import type { Step } from '../core/step.js';
import { done, todo } from '../core/step.js';
import { kubePaths } from './kubernetes/layout.js';
import { CONTAINER_LOG_LINKS, kubepodsCgroups, linksInto, readMountsUnder } from './kubernetes/leftovers.js';
import { crioService, dockerService, registryService, serviceManager } from '../services/index.js';
import { KUBERNETES_SERVICES } from './kubernetes/specs.js';
import { pidFile, supervisor } from '../services/supervisor.js';
import type { ServiceSpec } from '../services/types.js';
import { SYSTEM_PATHS } from '../core/settings.js';
import { registryAnswers } from '../services/specs.js';
import { stateEntries } from '../core/state.js';
import { REGISTRY_CONTAINER } from '../registry/registry.js';
import { HUGETLB_MOUNT, hugetlbMarker, undoHugetlbMount } from './lab-runtime.js';
import { pathExists } from '../core/fs-exists.js';
import { isRoot } from '../core/execa-runner.js';
import { SystemFiles } from '../core/system-files.js';
import { secretTemporary } from '../core/secret-file.js';
import { TOOL_UNITS, UNIT_DIR } from '../services/systemd-units.js';
import { isToolUnit } from '../services/unit-file.js';
import { EnvironmentError } from '../core/errors.js';


async function registryContainerExists(ctx: Context): Promise<boolean> {
  return ok(await ctx.probe.run({ file: 'docker', args: ['container', 'inspect', REGISTRY_CONTAINER], privileged: true, readOnly: true, timeoutMs: 10_000 }));
}

export function stopRegistryStep(): Step {
  return {
    id: 'stop-registry',
    title: 'local registry stopped',
    async check(ctx) {
      const container = await registryContainerExists(ctx);
      const supervised = await pathExists(pidFile(ctx, 'registry'));
      return container || supervised || (await registryAnswers()) ? todo('the registry is still there') : done();
    },
    async apply(ctx) {
      if (await registryContainerExists(ctx)) await must(ctx.runner, { file: 'docker', args: ['rm', '-f', REGISTRY_CONTAINER], privileged: true });
      await (await serviceManager(ctx)).stop(ctx, registryService(ctx));
    },
  };
}

/**
 * Without systemd the tool started CRI-O and dockerd itself, so it stops them too. The lab
 * cluster's programs are always the tool's own (kubelet first, so that it leaves CRI-O alone);
 * a cluster that setup made with kubeadm on a VM is reset with kubeadm.
 */
export function stopSupervisedStep(): Step {
  const specs = (ctx: Context) => [crioService(ctx), dockerService(ctx)];
  const kube = (ctx: Context) => [...KUBERNETES_SERVICES].reverse().map((s) => s.spec(ctx));
  const kubeadm = (ctx: Context) => pathExists(kubePaths(ctx.stateDir).kubeadmConfig);
  const left = async (ctx: Context) => {
    const systemd = (await serviceManager(ctx)).mode === 'systemd';
    const names: string[] = [];
    for (const s of [...kube(ctx), ...(systemd ? [] : specs(ctx))]) if (await pathExists(pidFile(ctx, s.name))) names.push(s.name);
    if (await pathExists(hugetlbMarker(ctx.stateDir))) names.push(`the ${HUGETLB_MOUNT} mount`);
    return (await kubeadm(ctx)) ? ['the kubeadm cluster', ...names] : names;
  };
  return {
    id: 'stop-services',
    title: 'services the tool started stopped',
    async check(ctx) {
      const names = await left(ctx);
      if (names.length) return todo(`still running: ${names.join(', ')}`);
      return (await serviceManager(ctx)).mode === 'systemd' ? done('systemd manages CRI-O and Docker') : done();
    },
    async apply(ctx) {
      const lab: ServiceSpec[] = [];
      for (const s of kube(ctx)) if (await pathExists(pidFile(ctx, s.name))) lab.push(s);
      for (const s of lab) await supervisor.stop(ctx, s);
      if (lab.length) await removeKubepodsCgroups(ctx);
      await removeLogLinks(ctx);
      await undoHugetlbMount(ctx);
      if (await kubeadm(ctx)) await must(ctx.runner, { file: 'kubeadm', args: ['reset', '-f', '--cri-socket', `unix://${SYSTEM_PATHS.crioSocket}`], privileged: true, timeoutMs: 10 * 60_000 });
      const mgr = await serviceManager(ctx);
      if (mgr.mode === 'systemd') return;
      for (const s of specs(ctx)) if (await pathExists(pidFile(ctx, s.name))) await mgr.stop(ctx, s);
    },
  };
}

/** kubelet's QoS cgroups outlive it; empty once its pods are gone, so rmdir takes them. */
async function removeKubepodsCgroups(ctx: Context): Promise<void> {
  for (const dir of await kubepodsCgroups(ctx.sys('/sys/fs/cgroup'))) {
    ctx.recorder.remove(dir);
    if (ctx.opts.dryRun) continue;
    const removed = await fs.rmdir(dir).then(() => true, () => false);
    if (!removed && !ok(await ctx.runner.run({ file: 'rmdir', args: ['--', dir], privileged: true }))) ctx.log.warn(`warning: could not remove the cgroup ${dir} (a process still in it?)`);
  }
}

/** kubelet's links to the lab's pod logs, and their directory when setup saw it made. */
async function removeLogLinks(ctx: Context): Promise<void> {
  const p = kubePaths(ctx.stateDir);
  const dir = ctx.sys(CONTAINER_LOG_LINKS);
  const links = await linksInto(dir, p.podLogs);
  for (const link of links) {
    ctx.recorder.remove(link);
    if (!ctx.opts.dryRun) await fs.rm(link, { force: true });
  }
  const others = (await fs.readdir(dir).catch(() => [])).length - links.length;
  if (!(await pathExists(p.logLinksMarker)) || others > 0 || !(await pathExists(dir))) return;
  ctx.recorder.remove(dir);
  if (!ctx.opts.dryRun) await fs.rmdir(dir);
}

/** The units the tool wrote, enabled or running: stopped and disabled before their files go. */
async function liveToolUnits(ctx: Context): Promise<string[]> {
  if ((await serviceManager(ctx)).mode !== 'systemd' || ctx.opts.root !== '/') return [];
  const live: string[] = [];
  for (const unit of TOOL_UNITS) {
    if (!(await isToolUnit(ctx, `${UNIT_DIR}/${unit}`))) continue;
    const asked = (verb: string) => ctx.probe.run({ file: 'systemctl', args: [verb, '--quiet', unit], readOnly: true });
    if (ok(await asked('is-enabled')) || ok(await asked('is-active'))) live.push(unit);
  }
  return live;
}

export function disableToolUnitsStep(): Step {
  return {
    id: 'disable-units',
    title: 'systemd units the tool wrote stopped and disabled',
    async check(ctx) {
      const live = await liveToolUnits(ctx);
      return live.length ? todo(`enabled or running: ${live.join(', ')}`) : done();
    },
    async apply(ctx) {
      const live = await liveToolUnits(ctx);
      if (live.length) await must(ctx.runner, { file: 'systemctl', args: ['disable', '--now', ...live], privileged: true, timeoutMs: 120_000 });
    },
  };
}

export function restoreFilesStep(opts: { force?: boolean } = {}): Step {
  return {
    id: 'restore-files',
    title: 'system files restored byte for byte',
    async check(ctx) {
      const pending = await ctx.files.pending(opts);
      const n = pending.filter((p) => !p.changed).length;
      return n ? todo(`${n} file(s) changed by the tool`) : done(pending.length ? `${pending.length} file(s) changed by someone else since; kept` : undefined);
    },
    async apply(ctx) {
      const results = await ctx.files.restoreAll(opts);
      for (const r of results) ctx.log.debug(`  ${r.action}: ${r.path}`);
      for (const r of results.filter((x) => x.action === 'changed-kept')) ctx.log.warn(`warning: ${r.path} was changed after crio-sigpoc installed it; kept as it is (crio-sigpoc clean-all --force restores it anyway)`);
      const missing = results.filter((r) => r.action === 'missing-backup');
      if (missing.length) throw new EnvironmentError(`no backup left for ${missing.map((m) => m.path).join(', ')}; those files were left as they are`, `put them back from a backup of your own (ls ${path.join(ctx.stateDir, 'backups')}), then: crio-sigpoc clean-all`);
      const changed = results.filter((r) => r.action === 'restored' || r.action === 'removed');
      if (!changed.length) return;
      const mgr = await serviceManager(ctx);
      const units = changed.some((r) => r.path.startsWith(ctx.sys(`${UNIT_DIR}/`)));
      if (mgr.mode === 'systemd' && ctx.opts.root === '/' && units) await must(ctx.runner, { file: 'systemctl', args: ['daemon-reload'], privileged: true });
      // A systemd-managed CRI-O keeps the removed drop-in's settings until it restarts.
      if (mgr.mode === 'systemd' && ctx.opts.root === '/' && (await mgr.state(ctx, crioService(ctx))).running) await mgr.restart(ctx, crioService(ctx));
    },
  };
}

/**
 * `sudo crio-sigpoc clean-all` after the README's flow: setup ran as root, but `test` ran as the
 * user who typed sudo, and recorded the system files it wrote in that user's state directory.
 * That state directory (its default place) and its owner, when it exists.
 */
export async function sudoUserStateDir(ctx: Context, env = process.env): Promise<{ dir: string; uid: number } | undefined> {
  const user = env.SUDO_USER;
  if (!isRoot() || !user || user === 'root' || ctx.opts.root !== '/' || env.CRIO_SIGPOC_STATE_DIR) return undefined;
  const fields = ((await ctx.files.read('/etc/passwd')) ?? '').split('\n').map((l) => l.split(':')).find((f) => f[0] === user);
  const home = fields?.[5];
  const uid = Number(fields?.[2]);
  if (!home || !Number.isInteger(uid)) return undefined;
  const dir = path.join(home, '.local/state/crio-sigpoc');
  return dir !== ctx.stateDir && (await pathExists(dir)) ? { dir, uid } : undefined;
}

/** The same step on another user's state directory (its ledger, its records, its keys), which that user must own. */
export function inStateDir(step: Step, state: { dir: string; uid: number }): Step {
  const other = (ctx: Context): Context => ({
    ...ctx,
    stateDir: state.dir,
    files: new SystemFiles({ root: ctx.opts.root, stateDir: state.dir, runner: ctx.runner, recorder: ctx.recorder, dryRun: ctx.opts.dryRun, direct: true, log: ctx.log, owner: state.uid }),
  });
  return { id: `${step.id}@${state.dir}`, title: `${step.title} (${state.dir})`, check: (ctx) => step.check(other(ctx)), apply: (ctx) => step.apply(other(ctx)) };
}

/** The ledger's temporary, and those an earlier version left after a kill (write-file-atomic's `ledger.json.<number>`). */
async function ledgerTemporaries(stateDir: string): Promise<string[]> {
  const earlier = (await fs.readdir(stateDir).catch(() => [] as string[])).filter((n) => /^ledger\.json\.\d+$/.test(n));
  return [secretTemporary(path.join(stateDir, 'ledger.json')), ...earlier.map((n) => path.join(stateDir, n))];
}

/** Key directories a killed run left half-made or half-removed (gen-keys, a rotation, the matrix's PKI). */
async function keyTemporaries(stateDir: string): Promise<string[]> {
  return (await fs.readdir(stateDir).catch(() => [] as string[])).filter((n) => /^\.keys[\w-]*-(new|retired)-/.test(n)).map((n) => path.join(stateDir, n));
}

export function removeStateStep(opts: { keys: boolean }): Step {
  const targets = async (ctx: Context): Promise<string[]> => {
    const entries = stateEntries(ctx.stateDir);
    return [...entries.data, ...(await ledgerTemporaries(ctx.stateDir)), ...(opts.keys ? [...entries.keys, ...(await keyTemporaries(ctx.stateDir))] : [])];
  };
  return {
    id: 'remove-state',
    title: `state removed (${opts.keys ? 'registry data, keys' : 'registry data; keys kept'})`,
    async check(ctx) {
      const left: string[] = [];
      for (const t of await targets(ctx)) if (await pathExists(t)) left.push(t);
      return left.length ? todo(`left: ${left.join(', ')}`) : done();
    },
    async apply(ctx) {
      // kubelet bind-mounts its root directory onto itself: unmounted, it can be removed.
      for (const m of await readMountsUnder(kubePaths(ctx.stateDir).dir)) await must(ctx.runner, { file: 'umount', args: [m], privileged: true });
      for (const t of await targets(ctx)) {
        if (!(await pathExists(t))) continue;
        ctx.recorder.remove(t);
        if (ctx.opts.dryRun) continue;
        // Registry data written by a root-run registry may not be ours to delete.
        const r = await fs.rm(t, { recursive: true, force: true }).then(
          () => true,
          () => false,
        );
        if (!r) await must(ctx.runner, { file: 'rm', args: ['-rf', '--', t], privileged: true });
      }
    },
  };
}
