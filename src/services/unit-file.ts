// A unit file the tool writes before it enables the unit: whatever it enables on a systemd host,
// it wrote (or a package did). Through ctx.files, so clean-all removes it again.
import type { Context } from '../core/context.js';
import { must } from '../core/command.js';
import type { Step } from '../core/step.js';
import { done, drift, todo } from '../core/step.js';
import type { UnitFile } from './systemd-units.js';
import { UNIT_DIR, UNIT_MARK } from './systemd-units.js';

export function unitFileStep(id: string, unitOf: (ctx: Context) => UnitFile | Promise<UnitFile>): Step {
  return {
    id,
    title: `systemd unit written by the tool (${UNIT_DIR})`,
    async check(ctx) {
      const u = await unitOf(ctx);
      if (await ctx.files.matches(u.path, u.content, 0o644)) return done(u.path);
      return (await ctx.files.exists(u.path)) ? drift(`${u.path} differs from the rendered unit`) : todo(`no ${u.path}`);
    },
    async apply(ctx) {
      const u = await unitOf(ctx);
      if ((await ctx.files.install(u.path, u.content, 0o644)) !== 'written' || ctx.opts.root !== '/') return;
      await must(ctx.runner, { file: 'systemctl', args: ['daemon-reload'], privileged: true });
      // A unit that already runs takes the new definition now (no-op when it is stopped).
      await must(ctx.runner, { file: 'systemctl', args: ['try-restart', u.unit], privileged: true, timeoutMs: 120_000 });
    },
  };
}

/** Is this unit file one the tool wrote? */
export async function isToolUnit(ctx: Context, unitPath: string): Promise<boolean> {
  return ((await ctx.files.read(unitPath)) ?? '').startsWith(UNIT_MARK);
}
