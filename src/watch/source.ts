// Where CRI-O's log is, followed line by line: the tool's own log file when it supervises CRI-O
// (read from the end, or from the start to replay), else the journal through `journalctl -f -o json`.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import type { Context } from '../core/context.js';
import { EnvironmentError } from '../core/errors.js';
import { statePaths } from '../core/state.js';
import type { LogFormat } from '../crio/log-events.js';
import { isSystemdHost } from '../services/index.js';

export interface LogSource {
  /** What a person is told is being read. */
  name: string;
  format: LogFormat;
  /** Lines in log order until signal aborts; replay: older lines first (the file from its start, the journal from `since`). */
  lines(signal: AbortSignal): AsyncIterable<string>;
}

export async function crioLogSource(ctx: Context, since?: Date): Promise<LogSource> {
  const file = path.join(statePaths(ctx.stateDir).logsDir, 'crio.log');
  // Under systemd CRI-O logs to the journal, whatever files the state dir holds.
  if (!(await isSystemdHost())) {
    if (await fs.stat(file).then((s) => s.isFile(), () => false)) return { name: file, format: 'file', lines: (signal) => followFile(file, since !== undefined, signal) };
    throw new EnvironmentError(`no CRI-O log: ${file} does not exist and this host has no systemd journal`, 'sudo crio-sigpoc setup --yes');
  }
  // --all: without it journalctl writes a field over 4096 bytes as null, and CRI-O's PullImage
  // request lines (pod annotations included) are often longer (seen on a systemd guest).
  const args = ['-u', 'crio', '-o', 'json', '--all', '--no-pager', '-f', ...(since ? [`--since=@${Math.floor(since.getTime() / 1000)}`] : ['-n', '0'])];
  return { name: 'journalctl -u crio', format: 'journal-json', lines: (signal) => followJournal(args, signal) };
}

/** A follower of a file that CRI-O appends to; a truncated or replaced file is read again from its start. */
export async function* followFile(file: string, fromStart: boolean, signal: AbortSignal, pollMs = 200): AsyncGenerator<string> {
  let fh = await fs.open(file, 'r');
  let { ino, size: pos } = await fh.stat();
  if (fromStart) pos = 0;
  let rest = '';
  const buf = Buffer.alloc(1 << 20);
  try {
    while (!signal.aborted) {
      const st = await fs.stat(file).catch(() => undefined);
      if (st && st.ino !== ino) {
        await fh.close();
        fh = await fs.open(file, 'r');
        ({ ino } = await fh.stat());
        pos = 0;
        rest = '';
      } else if (st && st.size < pos) {
        pos = 0;
        rest = '';
      }
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) {
        await sleep(pollMs, undefined, { signal }).catch(() => undefined);
        continue;
      }
      pos += bytesRead;
      const lines = (rest + buf.toString('utf8', 0, bytesRead)).split('\n');
      rest = lines.pop()!;
      yield* lines;
    }
  } finally {
    await fh.close();
  }
}

// The Runner runs a program to its end; a follower needs the lines as they come, so journalctl is
// started here with its argv (no shell) and stopped with the watch.
export async function* followJournal(args: string[], signal: AbortSignal): AsyncGenerator<string> {
  const child = execa('journalctl', args, { cancelSignal: signal, stdin: 'ignore', stderr: 'pipe', buffer: false, reject: false });
  try {
    for await (const line of child.iterable({ from: 'stdout' })) yield line;
  } catch (e) {
    // Ending the watch cancels journalctl; that is not an error.
    if (!signal.aborted) throw e;
  }
  const r = await child;
  if (!signal.aborted && r.exitCode !== 0) throw new EnvironmentError(`journalctl ${args.join(' ')} exited ${r.exitCode}`, 'sudo crio-sigpoc watch (reading the journal of crio needs root or the systemd-journal group)');
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "15m", "1h30m", "2d": milliseconds, or undefined when it is not such a duration. */
export function parseDuration(text: string): number | undefined {
  if (!/^(\d+[smhd])+$/.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(/(\d+)([smhd])/g)) ms += Number(m[1]) * UNITS[m[2]];
  return ms;
}
