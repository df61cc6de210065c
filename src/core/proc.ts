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

/** A listening TCP socket as /proc/net/tcp{,6} shows it. */
export interface ListeningSocket {
  /** Its local address as text: 127.0.0.1, 0.0.0.0, ::1, :: or the eight groups. */
  addr: string;
  port: number;
  uid: number;
  inode: string;
}

/** /proc/net/tcp prints addresses as little-endian hex words. */
function decodeAddress(hex: string): string {
  if (hex.length === 8) return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => [3, 2, 1, 0].map((i) => w.slice(i * 2, i * 2 + 2)));
  const groups = Array.from({ length: 8 }, (_, i) => bytes.slice(i * 2, i * 2 + 2).join('').replace(/^0+(?=.)/, '').toLowerCase());
  const text = groups.join(':');
  return text === '0:0:0:0:0:0:0:0' ? '::' : text === '0:0:0:0:0:0:0:1' ? '::1' : text;
}

/** The sockets listening on port in one table's text (the content of /proc/net/tcp or tcp6). */
export function listeningSockets(table: string, port: number): ListeningSocket[] {
  const out: ListeningSocket[] = [];
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // f[1] local address, f[3] state (0A = LISTEN), f[7] uid, f[9] inode.
    if (f.length < 10 || f[3] !== '0A') continue;
    const [hex, p] = f[1].split(':');
    if (parseInt(p, 16) === port) out.push({ addr: decodeAddress(hex), port, uid: Number(f[7]), inode: f[9] });
  }
  return out;
}

/** The owners of the sockets listening on TCP port (any address that 127.0.0.1 reaches), from /proc/net/tcp{,6}. */
export function listenersOn(port: number, host = '127.0.0.1', procRoot = '/proc'): Listener[] {
  // The addresses a connection to host reaches: host itself, and the wildcards (an IPv6 one, and 127.0.0.1 mapped into IPv6).
  const reaching = [host, '0.0.0.0', '::', `0:0:0:0:0:ffff:${host === '127.0.0.1' ? '7f00:1' : host}`];
  const found = ['net/tcp', 'net/tcp6'].flatMap((table) => listeningSockets(read(`${procRoot}/${table}`) ?? '', port)).filter((l) => reaching.includes(l.addr)).map(({ uid, inode }) => ({ uid, inode }));
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
