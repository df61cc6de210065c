// Debian packages: a read-only dpkg-query decides, apt-get installs what is missing.
import type { Context } from '../core/context.js';
import type { Command } from '../core/command.js';
import { must } from '../core/command.js';
import type { Step } from '../core/step.js';
import { done, drift, todo } from '../core/step.js';

export interface Wanted {
  name: string;
  /** Upstream version prefix, e.g. '1.36.' for a package pinned to one minor. */
  versionPrefix?: string;
}

export interface Installed {
  installed: boolean;
  version: string;
}

const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive' };

const aptGet = (...args: string[]): Command => ({ file: 'apt-get', args, privileged: true, env: APT_ENV, timeoutMs: 30 * 60_000 });

/** `name=1.36.*`: apt's trailing-star version match keeps the package on one minor. */
const aptSpec = (w: Wanted): string => (w.versionPrefix ? `${w.name}=${w.versionPrefix}*` : w.name);

/** dpkg-query lines "name<TAB>status<TAB>version"; unknown packages are simply absent. */
function parseDpkgQuery(stdout: string): Map<string, Installed> {
  const out = new Map<string, Installed>();
  for (const line of stdout.split('\n')) {
    const [name, status, version] = line.split('\t');
    if (!name || status === undefined) continue;
    out.set(name, { installed: status === 'install ok installed', version: version ?? '' });
  }
  return out;
}

/** The upstream part of a Debian version: no epoch, no revision. */
export const upstreamVersion = (v: string): string => v.replace(/^\d+:/, '').replace(/-[^-]*$/, '');

export async function queryPackages(ctx: Context, names: string[]): Promise<Map<string, Installed>> {
  // Under --root the package database of that tree answers, not the real machine's.
  const admindir = ctx.opts.root === '/' ? [] : [`--admindir=${ctx.sys('/var/lib/dpkg')}`];
  const r = await ctx.runner.run({ file: 'dpkg-query', args: [...admindir, '-W', '--showformat=${Package}\t${Status}\t${Version}\n', ...names], readOnly: true });
  // Exit 1 only means some names are unknown: the lines printed still hold for the others.
  return parseDpkgQuery(r.stdout);
}

/** What is missing or on the wrong version, in words; empty when all is in place. */
function missingPackages(wanted: Wanted[], found: Map<string, Installed>): string[] {
  const out: string[] = [];
  for (const w of wanted) {
    const f = found.get(w.name);
    if (!f?.installed) out.push(`${w.name} not installed`);
    else if (w.versionPrefix && !upstreamVersion(f.version).startsWith(w.versionPrefix)) out.push(`${w.name} is ${f.version}, wanted ${w.versionPrefix}x`);
  }
  return out;
}

export function aptPackagesStep(id: string, title: string, wanted: Wanted[]): Step {
  return {
    id,
    title,
    async check(ctx) {
      const found = await queryPackages(
        ctx,
        wanted.map((w) => w.name),
      );
      const missing = missingPackages(wanted, found);
      if (missing.length === 0) return done(wanted.map((w) => w.name).join(', '));
      const wrongVersion = missing.some((m) => m.includes(' wanted '));
      return wrongVersion ? drift(missing.join('; ')) : todo(missing.join('; '));
    },
    async apply(ctx) {
      await must(ctx.runner, aptGet('update'));
      await must(ctx.runner, aptGet('install', '-y', ...wanted.map(aptSpec)));
    },
  };
}
