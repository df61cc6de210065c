// One throw-away guest: a qcow2 overlay on the cached image, QEMU's software emulation (this host
// cannot offer KVM to a guest), ssh on a loopback port chosen at run time, 9p shares, the serial
// console in a log file. Always stopped at the end: poweroff, then the pid QEMU wrote, checked
// to be this run's QEMU before it is killed.
import { promises as fs, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { GuestImage } from './image.js';
import { GUEST_USER } from './image.js';

export interface Share {
  tag: string;
  hostPath: string;
  writable?: boolean;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

const RUN_PREFIX = 'crio-sigpoc-vm-';

/** Quotes one argument for the guest's shell (ssh passes a single command line). */
export const shq = (s: string): string => (/^[A-Za-z0-9_./=:@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** The pid in a QEMU pid file, if that process is still the QEMU of that run directory. */
function ourQemu(pidFile: string, runDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 1) return undefined;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline[0]?.endsWith('qemu-system-x86_64') && cmdline.some((a) => a.includes(runDir)) ? pid : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function gone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await sleep(200);
  }
  return false;
}

/** QEMUs of earlier runs whose process died before it could stop them. */
export async function reapStaleGuests(): Promise<void> {
  for (const name of await fs.readdir(os.tmpdir())) {
    if (!name.startsWith(RUN_PREFIX)) continue;
    const dir = path.join(os.tmpdir(), name);
    const pid = ourQemu(path.join(dir, 'qemu.pid'), dir);
    if (pid) {
      process.kill(pid, 'SIGKILL');
      await gone(pid, 5_000);
    }
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export class Guest {
  readonly console: string;
  private readonly pidFile: string;
  private readonly overlay: string;
  port = 0;
  private stopped = false;

  private readonly shares: Share[] = [];

  private constructor(
    readonly runDir: string,
    private readonly image: GuestImage,
  ) {
    this.console = path.join(runDir, 'console.log');
    this.pidFile = path.join(runDir, 'qemu.pid');
    this.overlay = path.join(runDir, 'overlay.qcow2');
  }

  static async create(image: GuestImage): Promise<Guest> {
    const runDir = await fs.mkdtemp(path.join(os.tmpdir(), RUN_PREFIX));
    return new Guest(runDir, image);
  }

  /** A host folder the guest mounts by its tag (see the image's fstab); read-only unless writable. */
  share(tag: string, hostPath: string, opts: { writable?: boolean } = {}): void {
    this.shares.push({ tag, hostPath, ...opts });
  }

  /** Starts QEMU (daemonized, pid file) and waits until ssh answers. */
  async boot(timeoutMs: number): Promise<number> {
    const started = Date.now();
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', this.image.disk, this.overlay]);
    for (let attempt = 0; ; attempt++) {
      this.port = await freeLoopbackPort();
      const r = await execa('qemu-system-x86_64', this.qemuArgs(), { reject: false, all: true, stdin: 'ignore', timeout: 60_000 });
      if (r.exitCode === 0) break;
      // Another program may have taken the port between the check and QEMU's bind: try another.
      if (attempt < 2 && /hostfwd|Could not set up host forwarding/i.test(String(r.all))) continue;
      throw new Error(`qemu-system-x86_64 did not start (exit ${r.exitCode}): ${String(r.all)}`);
    }
    await this.waitForSsh(timeoutMs - (Date.now() - started));
    return Math.round((Date.now() - started) / 1000);
  }

  private qemuArgs(): string[] {
    const args = [
      '-name', 'crio-sigpoc-vm',
      '-accel', 'tcg,thread=multi', '-cpu', 'max', '-smp', '2', '-m', '4096',
      '-kernel', this.image.kernel, '-initrd', this.image.initrd,
      '-append', 'root=/dev/vda rw console=ttyS0 net.ifnames=0',
      '-drive', `file=${this.overlay},if=virtio,format=qcow2,cache=unsafe,discard=unmap`,
      '-netdev', `user,id=net0,hostfwd=tcp:127.0.0.1:${this.port}-:22`,
      '-device', 'virtio-net-pci,netdev=net0',
      '-object', 'rng-random,filename=/dev/urandom,id=rng0', '-device', 'virtio-rng-pci,rng=rng0',
      '-display', 'none', '-monitor', 'none', '-serial', `file:${this.console}`,
      '-pidfile', this.pidFile, '-daemonize',
    ];
    for (const s of this.shares) args.push('-virtfs', `local,path=${s.hostPath},mount_tag=${s.tag},security_model=none,${s.writable ? '' : 'readonly=on,'}id=${s.tag}`);
    return args;
  }

  private sshArgs(): string[] {
    return [
      '-i', this.image.key,
      '-p', String(this.port),
      '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes',
      '-o', `UserKnownHostsFile=${this.image.knownHosts}`, '-o', 'HostKeyAlias=crio-sigpoc-vm', '-o', 'StrictHostKeyChecking=yes',
      '-o', 'ConnectTimeout=10', '-o', 'ServerAliveInterval=10', '-o', 'ServerAliveCountMax=6', '-o', 'LogLevel=ERROR',
      `${GUEST_USER}@127.0.0.1`,
    ];
  }

  /** Runs argv in the guest as the normal user (a login-like environment: the user's PATH). */
  async run(argv: string[], opts: { timeoutMs?: number; env?: Record<string, string>; input?: string } = {}): Promise<RunResult> {
    this.alive();
    const started = Date.now();
    const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${shq(v)}`);
    const line = [...(env.length ? ['env', ...env] : []), ...argv.map(shq)].join(' ');
    const r = await execa('ssh', [...this.sshArgs(), '--', line], { reject: false, ...(opts.input === undefined ? { stdin: 'ignore' as const } : { input: opts.input }), timeout: opts.timeoutMs ?? 300_000 });
    const out: RunResult = { exitCode: r.exitCode ?? -1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), seconds: Math.round((Date.now() - started) / 100) / 10 };
    if (r.timedOut) out.stderr += `\n[harness: timed out after ${opts.timeoutMs ?? 300_000} ms: ${line}]`;
    return out;
  }

  /** Like run, and throws with the output when the exit code is not 0. */
  async must(argv: string[], opts: { timeoutMs?: number; env?: Record<string, string>; input?: string } = {}): Promise<RunResult> {
    const r = await this.run(argv, opts);
    if (r.exitCode !== 0) throw new Error(`in the guest: ${argv.join(' ')} exited ${r.exitCode}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    return r;
  }

  private alive(): void {
    if (this.stopped) throw new Error('the guest is already stopped');
    if (!ourQemu(this.pidFile, this.runDir)) throw new Error(`QEMU is gone; console:\n${this.consoleTail()}`);
  }

  async waitForSsh(timeoutMs: number): Promise<void> {
    const end = Date.now() + Math.max(timeoutMs, 0);
    let last = '';
    while (Date.now() < end) {
      this.alive();
      const r = await execa('ssh', [...this.sshArgs(), '--', 'true'], { reject: false, stdin: 'ignore', timeout: 20_000 });
      if (r.exitCode === 0) return;
      last = String(r.stderr).trim();
      await sleep(2_000);
    }
    throw new Error(`ssh to the guest did not answer within ${Math.round(timeoutMs / 1000)} s (last: ${last})\nconsole:\n${this.consoleTail()}`);
  }

  /** A real reboot; resolves once ssh answers again. */
  async reboot(timeoutMs: number): Promise<number> {
    const started = Date.now();
    const bootId = (await this.must(['cat', '/proc/sys/kernel/random/boot_id'])).stdout.trim();
    await this.run(['sudo', 'systemctl', 'reboot'], { timeoutMs: 30_000 });
    const end = started + timeoutMs;
    while (Date.now() < end) {
      await sleep(3_000);
      const r = await this.run(['cat', '/proc/sys/kernel/random/boot_id'], { timeoutMs: 20_000 }).catch(() => undefined);
      if (r && r.exitCode === 0 && r.stdout.trim() !== bootId) return Math.round((Date.now() - started) / 1000);
    }
    throw new Error(`the guest did not come back from its reboot within ${Math.round(timeoutMs / 1000)} s\nconsole:\n${this.consoleTail()}`);
  }

  consoleTail(lines = 60): string {
    try {
      return readFileSync(this.console, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no console log)';
    }
  }

  /** poweroff, and if QEMU is still there after a grace period, its pid (checked) is killed. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    const pid = ourQemu(this.pidFile, this.runDir);
    if (pid) {
      await execa('ssh', [...this.sshArgs(), '--', 'sudo systemctl poweroff'], { reject: false, stdin: 'ignore', timeout: 15_000 });
      if (!(await gone(pid, 30_000)) && ourQemu(this.pidFile, this.runDir) === pid) {
        process.kill(pid, 'SIGTERM');
        if (!(await gone(pid, 5_000))) process.kill(pid, 'SIGKILL');
        await gone(pid, 5_000);
      }
    }
    this.stopped = true;
  }

  /** The last resort of an exiting process: no graceful steps, only the checked pid. */
  killNow(): void {
    const pid = ourQemu(this.pidFile, this.runDir);
    if (pid) process.kill(pid, 'SIGKILL');
  }

  async remove(): Promise<void> {
    await fs.rm(this.runDir, { recursive: true, force: true });
  }
}
