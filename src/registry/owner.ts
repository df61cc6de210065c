// Whatever listens on the registry's port is not believed to be the tool's registry: its socket's
// owner must be the registry process the tool started (its container, or its supervised or
// systemd process), or the sign step would sign whatever digest a squatter reports.
import type { Context } from '../core/context.js';
import { EnvironmentError } from '../core/errors.js';
import { ok } from '../core/command.js';
import { commandLine, descendsFrom, listenersOn } from '../core/proc.js';
import { REGISTRY, registryAddress } from '../core/settings.js';
import { readPidFile } from '../services/supervisor.js';
import { serviceManager } from '../services/index.js';
import { registryService } from '../services/specs.js';
import type { RegistryBackend } from './registry.js';

export const REGISTRY_CONTAINER = 'crio-sigpoc-registry';

/** What the tool started: the process (its descendants count) and, for docker, the container's address the proxy forwards to. */
export interface OwnRegistry {
  pid?: number;
  containerIp?: string;
}

/** Is this listening process the tool's registry? docker-proxy counts when it forwards to our container. */
export function ownsRegistry(pid: number, own: OwnRegistry, cmdline = commandLine(pid)): boolean {
  if (own.pid && descendsFrom(pid, own.pid)) return true;
  const proxy = /(^|\/)docker-proxy\s/.test(cmdline) && new RegExp(`-host-port ${REGISTRY.port}(\\s|$)`).test(cmdline);
  return proxy && own.containerIp !== undefined && own.containerIp !== '' && cmdline.includes(`-container-ip ${own.containerIp} `);
}

async function ownRegistry(ctx: Context, backend: RegistryBackend): Promise<OwnRegistry> {
  if (backend === 'docker') {
    const r = await ctx.probe.run({
      file: 'docker',
      args: ['container', 'inspect', '--format', '{{.State.Pid}} {{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', REGISTRY_CONTAINER],
      privileged: true,
      readOnly: true,
    });
    if (!ok(r)) return {};
    const [pid, ip] = r.stdout.trim().split(/\s+/);
    return { pid: Number(pid) || undefined, containerIp: ip };
  }
  const manager = await serviceManager(ctx);
  if (manager.mode === 'systemd') {
    const r = await ctx.probe.run({ file: 'systemctl', args: ['show', '--property', 'MainPID', '--value', registryService(ctx).unit], readOnly: true });
    return { pid: ok(r) ? Number(r.stdout.trim()) || undefined : undefined };
  }
  const recorded = await readPidFile(ctx, 'registry');
  return { pid: recorded && 'ours' in recorded ? recorded.ours.pid : undefined };
}

const FIX = `see who it is with: sudo ss -ltnp 'sport = :${REGISTRY.port}'; stop it or free the port, then run the command again`;

/** Throws (exit 3) when something other than the tool's registry listens on the registry's address; nothing listening is fine. */
export async function assertOwnRegistry(ctx: Context, backend: RegistryBackend): Promise<void> {
  try {
    await refuseForeignRegistry(ctx, backend);
  } catch (e) {
    // A plan signs nothing: it says what a real run would refuse, and goes on.
    if (!ctx.opts.dryRun || !(e instanceof EnvironmentError)) throw e;
    ctx.log.warn(`warning: ${e.message}; a real run stops here (${e.next})`);
  }
}

async function refuseForeignRegistry(ctx: Context, backend: RegistryBackend): Promise<void> {
  const listeners = listenersOn(REGISTRY.port, REGISTRY.host);
  if (!listeners.length) return;
  const own = await ownRegistry(ctx, backend);
  for (const l of listeners) {
    if (!l.pids.length) {
      throw new EnvironmentError(`cannot tell which process listens on ${registryAddress} (socket inode ${l.inode}, uid ${l.uid}): /proc does not show its owner to this user, so it is not trusted as the tool's registry`, `run as root, or ${FIX}`);
    }
    const foreign = l.pids.filter((pid) => !ownsRegistry(pid, own));
    if (foreign.length === l.pids.length) {
      const who = foreign.map((pid) => `pid ${pid} (${commandLine(pid) || 'command line unreadable'})`).join(', ');
      throw new EnvironmentError(`${registryAddress} is held by ${who}, not by the registry this tool started (${backend} backend)`, FIX);
    }
  }
}
