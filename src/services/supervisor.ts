// Without systemd the tool runs the services itself: detached, a pid file, a log file, a
// readiness probe, and a clean stop (TERM, then KILL) so nothing is orphaned.
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Context } from '../core/context.js';
import { EnvironmentError } from '../core/errors.js';
import { isRoot } from '../core/execa-runner.js';
import type { ProcessIdentity } from '../core/proc.js';
import { identify, isSameProcess } from '../core/proc.js';
import { statePaths } from '../core/state.js';
import type { ServiceManager, ServiceState } from './types.js';
import { waitFor } from './wait.js';

/** Pid files live where a reboot clears them (/run is a tmpfs), so none outlives its process's boot. */
export function runDir(ctx: Context): string {
  if (ctx.opts.root !== '/') return path.join(ctx.opts.root, 'run/crio-sigpoc');
  if (isRoot()) return '/run/crio-sigpoc';
  return process.env.XDG_RUNTIME_DIR ? path.join(process.env.XDG_RUNTIME_DIR, 'crio-sigpoc') : statePaths(ctx.stateDir).runDir;
}

export const pidFile = (ctx: Context, name: string): string => path.join(runDir(ctx), `${name}.pid`);
export const logFile = (ctx: Context, name: string): string => path.join(statePaths(ctx.stateDir).logsDir, `${name}.log`);

/** What a pid file says: the process the tool started, or why it is not to be believed. */
export type Recorded = { ours: ProcessIdentity } | { notOurs: string } | undefined;

/**
 * The pid file: "PID\nSTART-TIME\nBOOT-ID\n". Believed only when this user wrote it (owner, mode,
 * not a link) and the process with that pid is still the one started then: a pid alone may by now
 * name any process.
 */
export async function readPidFile(ctx: Context, name: string): Promise<Recorded> {
  const file = pidFile(ctx, name);
  const fh = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    if (e.code === 'ELOOP') return `${file} is a symbolic link`;
    throw e;
  });
  if (fh === undefined) return undefined;
  if (typeof fh === 'string') return { notOurs: fh };
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.size > 4096) return { notOurs: `${file} is not a small regular file` };
    if (st.uid !== process.geteuid?.()) return { notOurs: `${file} belongs to uid ${st.uid}, not to this user` };
    if (st.mode & 0o022) return { notOurs: `${file} is writable by others` };
    const [pid, startTime, boot] = (await fh.readFile('utf8')).split('\n');
    const recorded = { pid: Number(pid), startTime, bootId: boot };
    if (!/^[1-9]\d*$/.test(pid) || !startTime || !boot) return { notOurs: `${file} does not record which process it names (pid and start time)` };
    if (!isSameProcess(recorded)) return { notOurs: `pid ${pid} is no longer the process started then (${file} is stale)` };
    return { ours: recorded };
  } finally {
    await fh.close();
  }
}

export const pidFileText = (id: ProcessIdentity): string => `${id.pid}\n${id.startTime}\n${id.bootId}\n`;

async function writePidFile(ctx: Context, name: string, id: ProcessIdentity): Promise<void> {
  const dir = runDir(ctx);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await fs.lstat(dir);
  if (!st.isDirectory() || st.uid !== process.geteuid?.() || st.mode & 0o022) {
    throw new EnvironmentError(`${dir} is not a directory of this user's that only it can write`, `remove ${dir}, then run the command again`);
  }
  const file = pidFile(ctx, name);
  await fs.rm(file, { force: true });
  await fs.writeFile(file, pidFileText(id), { mode: 0o600, flag: constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW });
}

/** The process the pid file names, when it is ours; says why a pid file is ignored otherwise. */
async function ours(ctx: Context, name: string): Promise<ProcessIdentity | undefined> {
  const r = await readPidFile(ctx, name);
  if (r && 'notOurs' in r) ctx.log.debug(`  ${name}: ignoring its pid file: ${r.notOurs}`);
  return r && 'ours' in r ? r.ours : undefined;
}

/** Signals only the very process the tool started: its identity is checked again just before. */
async function signal(ctx: Context, id: ProcessIdentity, sig: 'TERM' | 'KILL' | 'HUP'): Promise<void> {
  if (!isSameProcess(id)) return;
  await ctx.runner.run({ file: 'kill', args: [`-${sig}`, String(id.pid)], privileged: true });
}

/** The last lines of a log that may be large (CRI-O at debug level): only its end is read. */
async function tail(file: string, lines: number): Promise<string> {
  return (await readFrom(file, 0)).split('\n').slice(-lines - 1).join('\n').trim();
}

/** The log from `offset` on, at most its last maxBytes; from its start if it shrank (rotated) since. */
async function readFrom(file: string, offset: number, maxBytes = 4 << 20): Promise<string> {
  const fh = await fs.open(file, 'r').catch(() => undefined);
  if (!fh) return '';
  try {
    const { size } = await fh.stat();
    const from = Math.max(size < offset ? 0 : offset, size - maxBytes);
    const buf = Buffer.alloc(size - from);
    await fh.read(buf, 0, buf.length, from);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

export const supervisor: ServiceManager = {
  mode: 'supervised',

  async state(ctx, spec): Promise<ServiceState> {
    const pid = (await ours(ctx, spec.name))?.pid;
    const running = pid !== undefined;
    const ready = await spec.ready(ctx);
    return {
      name: spec.name,
      mode: 'supervised',
      running: running || ready,
      ready,
      pid,
      logFile: logFile(ctx, spec.name),
      detail: ready ? `ready${running ? ` (pid ${pid})` : ' (started outside this tool)'}` : running ? `pid ${pid} not answering` : 'not running',
    };
  },

  async start(ctx, spec): Promise<void> {
    if (await spec.ready(ctx)) return;
    const log = logFile(ctx, spec.name);
    if (!ctx.opts.dryRun) await fs.mkdir(path.dirname(log), { recursive: true });
    let started = await ours(ctx, spec.name);
    if (!started) {
      const [file, ...args] = spec.argv;
      const pid = await ctx.runner.spawnDetached({ file, args, privileged: true }, log);
      if (ctx.opts.dryRun) return;
      // Gone already (nothing recorded then): only whether the service answers is left to ask.
      started = identify(pid);
      if (started) await writePidFile(ctx, spec.name, started);
    }
    const id = started;
    const living = (): boolean => id !== undefined && isSameProcess(id);
    const ok = await waitFor(() => spec.ready(ctx), spec.readyTimeoutMs ?? 60_000, () => !living());
    if (!ok) {
      const why = living() ? 'did not become ready in time' : 'exited';
      throw new EnvironmentError(`${spec.name} ${why}; last log lines (${log}):\n${await tail(log, 15)}`, `read ${log}, fix the cause, then run the command again`);
    }
  },

  async stop(ctx, spec): Promise<void> {
    const id = await ours(ctx, spec.name);
    if (id) {
      await signal(ctx, id, 'TERM');
      if (!ctx.opts.dryRun && !(await waitFor(async () => !isSameProcess(id), 30_000))) {
        await signal(ctx, id, 'KILL');
        await waitFor(async () => !isSameProcess(id), 5_000);
      }
    }
    if (!ctx.opts.dryRun) await fs.rm(pidFile(ctx, spec.name), { force: true });
  },

  async reload(ctx, spec): Promise<void> {
    const id = await ours(ctx, spec.name);
    if (id) await signal(ctx, id, 'HUP');
  },

  async restart(ctx, spec): Promise<void> {
    await supervisor.stop(ctx, spec);
    await supervisor.start(ctx, spec);
  },

  logs: (ctx, spec, lines) => tail(logFile(ctx, spec.name), lines),

  async logMark(ctx, spec) {
    const st = await fs.stat(logFile(ctx, spec.name)).catch(() => undefined);
    return { time: new Date(), offset: st?.size ?? 0 };
  },

  logsSince: (ctx, spec, mark) => readFrom(logFile(ctx, spec.name), mark.offset ?? 0),
};
