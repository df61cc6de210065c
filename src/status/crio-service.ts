// Is CRI-O up, and does it answer on the socket its own config names? Never through sudo: a user
// who cannot open the root-only socket is told how to ask, instead of being prompted for a password.
import { constants as fsc, promises as fs } from 'node:fs';
import type { Context } from '../core/context.js';
import type { RunResult } from '../core/command.js';
import { isRoot } from '../core/execa-runner.js';
import type { ServiceMode } from '../services/types.js';
import type { Check } from './check.js';
import { check, notInstalled, PROBE_TIMEOUT_MS } from './check.js';
import { logfmtMessage } from './crio-log.js';

export interface CrioServiceFacts {
  mode: ServiceMode;
  /** systemd only: `systemctl is-active crio.service` answered active. */
  unitActive?: boolean;
  /** A process named crio exists. */
  processRunning: boolean;
  socket: string;
  socketExists: boolean;
  /** crictl's answer, when this user may open the socket. */
  crictl?: RunResult;
}

const TITLE = 'CRI-O service';

export function crioServiceCheck(f: CrioServiceFacts, setupHint: string): Check {
  const how = f.mode === 'systemd' ? `systemd unit crio.service ${f.unitActive ? 'active' : 'inactive'}` : 'no systemd: supervised by crio-sigpoc';
  const endpoint = `unix://${f.socket}`;
  const start = f.mode === 'systemd' ? 'sudo systemctl start crio  (its log: sudo journalctl -u crio -n 50)' : setupHint;
  if (f.crictl && !notInstalled(f.crictl)) {
    const version = /RuntimeVersion:\s*(\S+)/.exec(f.crictl.stdout)?.[1];
    if (f.crictl.exitCode === 0 && !f.crictl.timedOut) return check('crio', TITLE, 'ok', `CRI-O${version ? ` ${version}` : ''} answers on ${endpoint} (${how})`);
    const last = (f.crictl.stderr || f.crictl.stdout).trim().split('\n').pop() ?? '';
    const why = f.crictl.timedOut ? `no answer within ${PROBE_TIMEOUT_MS / 1000}s` : (logfmtMessage(last) ?? last);
    return check('crio', TITLE, 'problem', `CRI-O does not answer on ${endpoint}: ${why} (${how})`, { fix: start });
  }
  const running = f.processRunning || f.unitActive === true;
  if (!running) return check('crio', TITLE, 'problem', `CRI-O is not running (${how}; ${f.socketExists ? 'a stale socket' : 'no socket'} at ${f.socket})`, { fix: start });
  if (!f.socketExists) return check('crio', TITLE, 'problem', `CRI-O runs but its socket ${f.socket} is missing (${how})`, { fix: start });
  // Running, but not asked: crictl is missing (its own check says so), or the socket is root's.
  if (f.crictl) return check('crio', TITLE, 'warning', `CRI-O runs (${how}); crictl is missing, so it was not asked`, { fix: setupHint });
  return check('crio', TITLE, 'warning', `CRI-O runs (${how}); its socket ${f.socket} is for root only, so it was not asked`, { fix: 'sudo crio-sigpoc status' });
}

/** Any process named crio (comm), read from /proc: needs no privilege. */
async function crioProcessRunning(): Promise<boolean> {
  const pids = (await fs.readdir('/proc').catch(() => [] as string[])).filter((d) => /^\d+$/.test(d));
  const comms = await Promise.all(pids.map((p) => fs.readFile(`/proc/${p}/comm`, 'utf8').catch(() => '')));
  return comms.some((c) => c.trim() === 'crio');
}

export async function crioServiceFacts(ctx: Context, socket: string, mode: ServiceMode): Promise<CrioServiceFacts> {
  const path = ctx.sys(socket);
  const [unit, processRunning, socketExists, usable] = await Promise.all([
    mode === 'systemd' ? ctx.probe.run({ file: 'systemctl', args: ['is-active', '--quiet', 'crio.service'], readOnly: true, timeoutMs: PROBE_TIMEOUT_MS }) : undefined,
    crioProcessRunning(),
    fs.stat(path).then(() => true, () => false),
    isRoot() ? true : fs.access(path, fsc.R_OK | fsc.W_OK).then(() => true, () => false),
  ]);
  const crictl =
    socketExists && usable
      ? await ctx.probe.run({ file: 'crictl', args: ['--runtime-endpoint', `unix://${socket}`, '--timeout', `${PROBE_TIMEOUT_MS / 1000 - 1}s`, 'version'], readOnly: true, timeoutMs: PROBE_TIMEOUT_MS })
      : undefined;
  return { mode, unitActive: unit ? unit.exitCode === 0 : undefined, processRunning, socket, socketExists, crictl };
}
