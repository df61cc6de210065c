// What kubelet leaves outside its files once it stops: the bind mount of its root directory (it
// makes it rshared) and the kubepods cgroups of cgroupfs. clean-all removes both.
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

/** Mount points at or under dir, deepest first (the order umount needs). */
export function mountsUnder(mountinfo: string, dir: string): string[] {
  const points = mountinfo
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => Boolean(p))
    .map(unescape)
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

export async function readMountsUnder(dir: string): Promise<string[]> {
  return mountsUnder(await fs.readFile('/proc/self/mountinfo', 'utf8').catch(() => ''), dir);
}

async function subdirs(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  const nested = await Promise.all(entries.filter((e) => e.isDirectory()).map((e) => subdirs(path.join(dir, e.name))));
  return [dir, ...nested.flat()];
}

/** kubelet's QoS cgroups under every controller (cgroup v1, and the v2 tree of a hybrid host), deepest first. */
export async function kubepodsCgroups(root: string): Promise<string[]> {
  // '' : a cgroup v2 host has it at the root.
  const controllers = ['', ...(await fs.readdir(root).catch(() => [] as string[]))];
  const found: string[] = [];
  for (const c of controllers) {
    const top = path.join(root, c, 'kubepods');
    if (await fs.stat(top).then((s) => s.isDirectory(), () => false)) found.push(...(await subdirs(top)));
  }
  return found.sort((a, b) => b.length - a.length);
}

/** kubelet links every container's log here (a fixed path), to files under its podLogsDir. */
export const CONTAINER_LOG_LINKS = '/var/log/containers';

/** The links in dir that point into logsDir: the lab's, and only those. */
export async function linksInto(dir: string, logsDir: string): Promise<string[]> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const targets = await Promise.all(names.map((n) => fs.readlink(path.join(dir, n)).catch(() => '')));
  return names.filter((_, i) => targets[i].startsWith(`${logsDir}/`)).map((n) => path.join(dir, n));
}
