// What the lab's runc needs to start kubelet's pod containers: the hugetlb cgroup that it writes
// kubelet's hugepage limits into. (Which runtime the lab uses is in its CRI-O drop-in.)
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Context } from '../core/context.js';
import { must } from '../core/command.js';
import { kubePaths } from './kubernetes/layout.js';
import type { Step } from '../core/step.js';
import { done, todo } from '../core/step.js';
import { pathExists } from '../core/fs-exists.js';

export const HUGETLB_MOUNT = '/sys/fs/cgroup/hugetlb';
/** clean-all's cue: the tool mounted the hugetlb hierarchy, so it unmounts it. */
export const hugetlbMarker = (stateDir: string): string => path.join(kubePaths(stateDir).dir, 'mounted-hugetlb');

/** CRI-O's test: the kernel lists hugetlb as enabled in /proc/cgroups. */
export function hugetlbEnabled(procCgroups: string): boolean {
  return procCgroups.split('\n').some((l) => {
    const f = l.split(/\s+/);
    return f[0] === 'hugetlb' && f[3] === '1';
  });
}

/** runc's: a cgroup v1 mount whose super options name hugetlb (mountinfo: "… - cgroup cgroup rw,hugetlb"). */
export function hugetlbMounted(mountinfo: string): boolean {
  return mountinfo.split('\n').some((l) => {
    const [fstype, , options] = (l.split(' - ')[1] ?? '').split(' ');
    return fstype === 'cgroup' && (options ?? '').split(',').includes('hugetlb');
  });
}

/**
 * kubelet sends a hugepage limit for every page size of the kernel, and CRI-O passes them on when
 * /proc/cgroups lists hugetlb. On a cgroup v1 host runc then writes them into the hugetlb
 * hierarchy; a hybrid host that leaves hugetlb to the unified tree has none mounted, and runc
 * refuses every container ("cannot set hugetlb limit: container could not join or create cgroup").
 */
export function hugetlbStep(): Step {
  return {
    id: 'cgroup-hugetlb',
    title: `hugetlb cgroup controller mounted for runc (${HUGETLB_MOUNT}) where cgroup v1 lacks it`,
    async check(ctx) {
      if (await ctx.files.exists('/sys/fs/cgroup/cgroup.controllers')) return done('cgroup v2: runc uses the unified hierarchy');
      if (!hugetlbEnabled((await ctx.files.read('/proc/cgroups')) ?? '')) return done('the kernel has no hugetlb controller: CRI-O sends no hugepage limits');
      if (hugetlbMounted((await ctx.files.read('/proc/self/mountinfo')) ?? '')) return done('hugetlb has a cgroup v1 mount');
      return todo('hugetlb has no cgroup v1 mount: runc would refuse every pod container');
    },
    async apply(ctx) {
      await must(ctx.runner, { file: 'mkdir', args: ['-p', HUGETLB_MOUNT], privileged: true });
      await must(ctx.runner, { file: 'mount', args: ['-t', 'cgroup', '-o', 'hugetlb', 'cgroup', HUGETLB_MOUNT], privileged: true });
      const marker = hugetlbMarker(ctx.stateDir);
      ctx.recorder.write(marker, '', 0o600);
      if (!ctx.opts.dryRun) {
        await fs.mkdir(path.dirname(marker), { recursive: true, mode: 0o700 });
        await fs.writeFile(marker, '');
      }
    },
  };
}

/** clean-all: only a mount this tool made is taken away. */
export async function undoHugetlbMount(ctx: Context): Promise<void> {
  const marker = hugetlbMarker(ctx.stateDir);
  if (!(await pathExists(marker))) return;
  // Each part only if still there: an interrupted clean-all goes on where it stopped.
  if (hugetlbMounted((await ctx.files.read('/proc/self/mountinfo')) ?? '')) await must(ctx.runner, { file: 'umount', args: [HUGETLB_MOUNT], privileged: true });
  if (await ctx.files.exists(HUGETLB_MOUNT)) await must(ctx.runner, { file: 'rmdir', args: [HUGETLB_MOUNT], privileged: true });
  if (!ctx.opts.dryRun) await fs.rm(marker);
}
