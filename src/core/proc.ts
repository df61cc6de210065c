// Who a process is, from /proc: a pid alone names whatever process has it now, so a process the
// tool started is recognised by its start time in this boot, and a listening socket by its owner.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

export interface ProcessIdentity {
  pid: number;
  /** Field 22 of /proc/PID/stat: clock ticks after boot; with the boot id it names one process. */
  startTime: string;
  bootId: string;
}

const read = (p: string): string | undefined => {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
};

export const bootId = (): string => read('/proc/sys/kernel/random/boot_id')?.trim() ?? '';

/** The fields of /proc/PID/stat after the command name (which may hold spaces and parentheses). */
function statFields(pid: number): string[] | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // Field 3 (state) onwards; index 0 here is field 3.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** The identity of a live process, or undefined when no process has that pid. */
export function identify(pid: number): ProcessIdentity | undefined {
  const f = statFields(pid);
  // A zombie has exited: only its exit status is left for its parent to collect.
  return f && f[0] !== 'Z' ? { pid, startTime: f[22 - 3], bootId: bootId() } : undefined;
}

export const parentPid = (pid: number): number | undefined => {
  const f = statFields(pid);
  return f ? Number(f[4 - 3]) : undefined;
};

/** Is the process that has this pid now the very one recorded (not a later one given the pid)? */
export function isSameProcess(recorded: ProcessIdentity): boolean {
  const now = identify(recorded.pid);
  return now !== undefined && now.startTime === recorded.startTime && now.bootId === recorded.bootId;
}

/** Is pid the ancestor itself or one of its descendants (sudo, a wrapper, then the program)? */
export function descendsFrom(pid: number, ancestor: number): boolean {
  for (let p: number | undefined = pid, hops = 0; p && p > 1 && hops < 64; p = parentPid(p), hops++) if (p === ancestor) return true;
  return false;
}

export const commandLine = (pid: number): string => (read(`/proc/${pid}/cmdline`) ?? '').split('\0').filter(Boolean).join(' ');

export const executable = (pid: number): string | undefined => {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
};

export interface Listener {
  /** The socket's owner as the kernel records it. */
  uid: number;
  inode: string;
  /** The processes holding the socket; empty where /proc hides them (another user's, without root). */
  pids: number[];
}

/** "0100007F:138B" (little-endian IPv4, hex port) → 127.0.0.1 and port 5003; IPv6 as its 32 hex digits. */
function localAddress(field: string): { addr: string; port: number } {
  const [hex, port] = field.split(':');
  const addr = hex.length === 8 ? [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.') : hex;
  return { addr, port: parseInt(port, 16) };
}

/** The owners of the sockets listening on TCP port (any address that 127.0.0.1 reaches), from /proc/net/tcp{,6}. */
export function listenersOn(port: number, host = '127.0.0.1', procRoot = '/proc'): Listener[] {
  const found: Omit<Listener, 'pids'>[] = [];
  for (const table of ['net/tcp', 'net/tcp6']) {
    for (const line of (read(`${procRoot}/${table}`) ?? '').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // f[1] local address, f[3] state (0A = LISTEN), f[7] uid, f[9] inode.
      if (f.length < 10 || f[3] !== '0A') continue;
      const local = localAddress(f[1]);
      const reaches = [host, '0.0.0.0', '0'.repeat(32), '0000000000000000FFFF00000100007F'].includes(local.addr);
      if (local.port === port && reaches) found.push({ uid: Number(f[7]), inode: f[9] });
    }
  }
  if (!found.length) return [];
  const byInode = new Map(found.map((l) => [l.inode, { ...l, pids: [] as number[] }]));
  for (const entry of readdirSync(procRoot)) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`${procRoot}/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`${procRoot}/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      const l = m && byInode.get(m[1]);
      if (l && !l.pids.includes(Number(entry))) l.pids.push(Number(entry));
    }
  }
  return [...byInode.values()];
}
