// Under systemd the units do the supervising; the tool enables, starts, reloads and reads journals.
import type { Context } from '../core/context.js';
import { EnvironmentError } from '../core/errors.js';
import { must, ok } from '../core/command.js';
import type { ServiceManager, ServiceState } from './types.js';
import { waitFor } from './wait.js';

const systemctl = (ctx: Context, args: string[], readOnly = false) =>
  ctx.runner.run({ file: 'systemctl', args, privileged: !readOnly, readOnly });

export const systemd: ServiceManager = {
  mode: 'systemd',

  async state(ctx, spec): Promise<ServiceState> {
    const active = ok(await ctx.probe.run({ file: 'systemctl', args: ['is-active', '--quiet', spec.unit], readOnly: true }));
    const ready = active && (await spec.ready(ctx));
    return { name: spec.name, mode: 'systemd', running: active, ready, detail: `unit ${spec.unit} ${active ? 'active' : 'inactive'}${active && !ready ? ', not answering' : ''}` };
  },

  async start(ctx, spec): Promise<void> {
    if (await spec.ready(ctx)) {
      // Answering now is not enough on a VM: it must come back after the reboot setup may ask for.
      const enabled = ok(await ctx.probe.run({ file: 'systemctl', args: ['is-enabled', '--quiet', spec.unit], readOnly: true }));
      if (!enabled) await must(ctx.runner, { file: 'systemctl', args: ['enable', spec.unit], privileged: true });
      return;
    }
    await must(ctx.runner, { file: 'systemctl', args: ['enable', '--now', spec.unit], privileged: true });
    if (ctx.opts.dryRun) return;
    if (!(await waitFor(() => spec.ready(ctx), spec.readyTimeoutMs ?? 60_000))) {
      throw new EnvironmentError(`${spec.unit} did not become ready; last journal lines:\n${await systemd.logs(ctx, spec, 15)}`, `sudo journalctl -u ${spec.unit} -n 100`);
    }
  },

  async stop(ctx, spec): Promise<void> {
    await systemctl(ctx, ['stop', spec.unit]);
  },

  async reload(ctx, spec): Promise<void> {
    await must(ctx.runner, { file: 'systemctl', args: ['reload-or-restart', spec.unit], privileged: true });
  },

  async restart(ctx, spec): Promise<void> {
    await must(ctx.runner, { file: 'systemctl', args: ['restart', spec.unit], privileged: true });
    if (!ctx.opts.dryRun) await waitFor(() => spec.ready(ctx), spec.readyTimeoutMs ?? 60_000);
  },

  async logs(ctx, spec, lines): Promise<string> {
    const r = await ctx.probe.run({ file: 'journalctl', args: ['-u', spec.unit, '-n', String(lines), '--no-pager', '-o', 'cat'], privileged: true, readOnly: true });
    return r.stdout;
  },

  logMark: async () => ({ time: new Date() }),

  /** The journal keeps whole seconds in --since: a line of the second before the mark may come too. */
  async logsSince(ctx, spec, mark): Promise<string> {
    const r = await ctx.probe.run({ file: 'journalctl', args: ['-u', spec.unit, `--since=@${Math.floor(mark.time.getTime() / 1000)}`, '--no-pager', '-o', 'cat'], privileged: true, readOnly: true });
    return r.stdout;
  },
};
