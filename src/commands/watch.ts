// watch: every signature decision CRI-O makes, as it makes it, read from CRI-O's own log. Read-only
// and without the run lock, so it runs beside `test`. Ends on Ctrl-C (exit 130) or SIGTERM (143),
// as every interrupted command of the tool does, after the last textfile write.
import type { GlobalOptions } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import { parseJournalLine, parseLogLine, SignatureEvents } from '../crio/log-events.js';
import type { WatchedEvent } from '../watch/format.js';
import { eventJson, eventLine } from '../watch/format.js';
import { signatureRequired } from '../watch/verified.js';
import { parseListen, serveMetrics, SignatureMetrics, Textfile } from '../watch/metrics.js';
import { crioLogSource, parseDuration } from '../watch/source.js';
import { runCommand } from './run-command.js';

interface WatchOptions extends GlobalOptions {
  since?: string;
  metricsListen?: string;
  metricsAllowRemote?: boolean;
  textfile?: string;
}

export default (opts: WatchOptions): Promise<number> =>
  // Its --json is a stream of lines, not the one closing document of other commands.
  runCommand('watch', { ...opts, json: false }, async (ctx) => {
    const sinceMs = opts.since === undefined ? undefined : parseDuration(opts.since);
    if (opts.since !== undefined && sinceMs === undefined) throw new UsageError(`--since ${opts.since}: expected a duration such as 90s, 15m, 1h or 2d`);
    const since = sinceMs === undefined ? undefined : new Date(Date.now() - sinceMs);
    const listen = opts.metricsListen ? parseListen(opts.metricsListen, !!opts.metricsAllowRemote) : undefined;
    const metrics = new SignatureMetrics();
    const textfile = opts.textfile ? new Textfile(opts.textfile, metrics) : undefined;
    const source = await crioLogSource(ctx, since);

    const stop = new AbortController();
    let exitCode = 0;
    const onSignal = (sig: NodeJS.Signals): void => {
      exitCode = sig === 'SIGINT' ? 130 : 143;
      stop.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const server = listen ? await serveMetrics(metrics, listen) : undefined;
    try {
      await textfile?.write();
      const where = [listen && `metrics on http://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}/metrics`, opts.textfile && `textfile ${opts.textfile}`].filter(Boolean).join(', ');
      process.stderr.write(`watching ${source.name}${since ? ` since ${since.toISOString()}` : ''}${where ? `; ${where}` : ''} (Ctrl-C ends)\n`);
      const parse = source.format === 'file' ? parseLogLine : parseJournalLine;
      const reader = new SignatureEvents();
      for await (const line of source.lines(stop.signal)) {
        const rec = parse(line);
        const read = rec && reader.feed(rec);
        // A replayed log file starts at its beginning: what is older than --since is read, not told.
        if (!read || (since && read.time && new Date(read.time) < since)) continue;
        const e: WatchedEvent = read.outcome === 'accepted' && read.policy !== undefined && read.image ? { ...read, verified: await signatureRequired(ctx, read.policy, read.image) } : read;
        metrics.count(e);
        process.stdout.write((opts.json ? eventJson(e) : eventLine(e)) + '\n');
        await textfile?.write();
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await textfile?.write();
      await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    }
    return { exitCode, json: undefined };
  }, { lock: false });
