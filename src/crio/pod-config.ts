// A crictl pod config: CRI-O takes the namespace policy of a pull from the sandbox config it is
// sent with (`crictl pull --pod-config`), and `crictl runp` starts a sandbox from the same file.
import path from 'node:path';
import type { Context } from '../core/context.js';
import { statePaths } from '../core/state.js';

/** Only the metadata matters for a pull; host network and PID namespace keep runp light. */
export function podConfigDoc(ctx: Context, namespace: string, name = `sigpoc-${namespace}`): object {
  return {
    metadata: { name, namespace, uid: `${name}-uid`, attempt: 1 },
    log_directory: path.join(statePaths(ctx.stateDir).logsDir, 'pods', namespace),
    linux: { security_context: { namespace_options: { network: 2, pid: 1 } } },
  };
}

/**
 * Written once per run and atomically (concurrent pulls read the same file), under `dir` in the
 * state directory; a dry run shows the path and writes nothing.
 */
export function podConfig(ctx: Context, dir: string, namespace: string): Promise<string> {
  return ctx.memo(`pod-config:${dir}:${namespace}`, async () => {
    const file = path.join(ctx.stateDir, dir, `pod-${namespace}.json`);
    await ctx.state.writeSecret(file, JSON.stringify(podConfigDoc(ctx, namespace), null, 2) + '\n');
    return file;
  });
}
