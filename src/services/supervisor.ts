// Without systemd the tool runs the services itself: detached, a pid file, a log file, a
// readiness probe, and a clean stop (TERM, then KILL) so nothing is orphaned.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Context } from '../core/context.js';
import { EnvironmentError } from '../core/errors.js';
import { statePaths } from '../core/state.js';
import type { ServiceManager, ServiceState } from './types.js';
import { waitFor } from './wait.js';

export const pidFile = (ctx: Context, name: string): string => path.join(statePaths(ctx.stateDir).runDir, `${name}.pid`);
export const logFile = (ctx: Context, name: string): string => path.join(statePaths(ctx.stateDir).logsDir, `${name}.log`);

async function readPid(ctx: Context, name: string): Promise<number | undefined> {
  const text = await fs.readFile(pidFile(ctx, name), 'utf8').catch(() => '');
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isFinite(pid) && pid > 0 ? pid : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to root.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function signal(ctx: Context, pid: number, sig: 'TERM' | 'KILL' | 'HUP'): Promise<void> {
  await ctx.runner.run({ file: 'kill', args: [`-${sig}`, String(pid)], privileged: true });
}

/** The last lines of a log that may be large (CRI-O at debug level): only its end is read. */
async function tail(file: string, lines: number, maxBytes = 4 << 20): Promise<string> {
  const fh = await fs.open(file, 'r').catch(() => undefined);
  if (!fh) return '';
  try {
    const { size } = await fh.stat();
    const length = Math.min(size, maxBytes);
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, size - length);
    return buf.toString('utf8').split('\n').slice(-lines - 1).join('\n').trim();
  } finally {
    await fh.close();
  }
}

export const supervisor: ServiceManager = {
  mode: 'supervised',

  async state(ctx, spec): Promise<ServiceState> {
    const pid = await readPid(ctx, spec.name);
    const running = pid !== undefined && alive(pid);
    const ready = await spec.ready(ctx);
    return {
      name: spec.name,
      mode: 'supervised',
      running: running || ready,
      ready,
      pid: running ? pid : undefined,
      logFile: logFile(ctx, spec.name),
      detail: ready ? `ready${running ? ` (pid ${pid})` : ' (started outside this tool)'}` : running ? `pid ${pid} not answering` : 'not running',
    };
  },

  async start(ctx, spec): Promise<void> {
    if (await spec.ready(ctx)) return;
    const log = logFile(ctx, spec.name);
    if (!ctx.opts.dryRun) {
      await fs.mkdir(path.dirname(log), { recursive: true });
      await fs.mkdir(path.dirname(pidFile(ctx, spec.name)), { recursive: true });
    }
    let pid = await readPid(ctx, spec.name);
    if (pid === undefined || !alive(pid)) {
      const [file, ...args] = spec.argv;
      pid = await ctx.runner.spawnDetached({ file, args, privileged: true }, log);
      if (ctx.opts.dryRun) return;
      await fs.writeFile(pidFile(ctx, spec.name), `${pid}\n`);
    }
    const started = pid;
    const ok = await waitFor(() => spec.ready(ctx), spec.readyTimeoutMs ?? 60_000, () => !alive(started));
    if (!ok) {
      const why = alive(started) ? 'did not become ready in time' : 'exited';
      throw new EnvironmentError(`${spec.name} ${why}; last log lines (${log}):\n${await tail(log, 15)}`, `read ${log}, fix the cause, then run the command again`);
    }
  },

  async stop(ctx, spec): Promise<void> {
    const pid = await readPid(ctx, spec.name);
    if (pid !== undefined && alive(pid)) {
      await signal(ctx, pid, 'TERM');
      if (!ctx.opts.dryRun && !(await waitFor(async () => !alive(pid), 30_000))) {
        await signal(ctx, pid, 'KILL');
        await waitFor(async () => !alive(pid), 5_000);
      }
    }
    if (!ctx.opts.dryRun) await fs.rm(pidFile(ctx, spec.name), { force: true });
  },

  async reload(ctx, spec): Promise<void> {
    const pid = await readPid(ctx, spec.name);
    if (pid !== undefined && alive(pid)) await signal(ctx, pid, 'HUP');
  },

  async restart(ctx, spec): Promise<void> {
    await supervisor.stop(ctx, spec);
    await supervisor.start(ctx, spec);
  },

  logs: (ctx, spec, lines) => tail(logFile(ctx, spec.name), lines),
};
