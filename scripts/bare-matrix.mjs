#!/usr/bin/env node
// The verdict matrix done bare: for each case of the matrix's case data, exactly the crictl (and
// cosign) calls `crio-sigpoc test` makes for it, in the same groups and with the same concurrency,
// from a plain script: no step checks, no log read, no table. The matrix's node additions are put
// in place before the clock starts (and removed by done()), so CRI-O decides the same verdicts.
// Each procedure below mirrors its function in src/verify/matrix/run.ts; a procedure this script
// does not know stops it. Run as root on a warm lab (after `crio-sigpoc test`).
import { $ } from 'zx';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createContext } from '../dist/core/context.js';
import { silentLog } from '../dist/ui/log.js';
import { MATRIX } from '../dist/verify/matrix/cases.js';
import { CLOSED_NAMESPACE, OPEN_NAMESPACE } from '../dist/verify/matrix/lab-config.js';
import { addNodeAdditions, removeNodeAdditions } from '../dist/verify/matrix/node.js';
import { additionsOf } from '../dist/verify/matrix/run.js';
import { podConfig } from '../dist/crio/pod-config.js';
import { statePaths } from '../dist/core/state.js';
import { cosignBinary } from '../dist/registry/cosign.js';

$.verbose = false;
$.quiet = true;
const endpoint = ['--runtime-endpoint', 'unix:///var/run/crio/crio.sock'];
const crictl = (args) => $`crictl ${endpoint} ${args}`.nothrow();

/** Each case's calls, as run.ts makes them for its procedure. */
const procedures = {
  async pull(ctx, c) {
    await crictl(['rmi', c.image]);
    await crictl(c.namespace ? ['pull', '--pod-config', await podConfig(ctx, 'matrix', c.namespace), c.image] : ['pull', c.image]);
  },
  async 'invisible-signature'(ctx, c) {
    await procedures.pull(ctx, { ...c, namespace: undefined });
    await $`${cosignBinary()} verify --key ${statePaths(ctx.stateDir).publicKey} --insecure-ignore-tlog=true ${c.image}`.nothrow();
  },
  async preloaded(ctx, c) {
    const stale = await crictl(['pods', '--name', `sigpoc-${CLOSED_NAMESPACE}`, '-q']);
    for (const id of stale.stdout.split('\n').filter(Boolean)) await crictl(['rmp', '-f', id]);
    await procedures.pull(ctx, { ...c, namespace: OPEN_NAMESPACE });
    await crictl(['pull', c.image]);
    const pod = await podConfig(ctx, 'matrix', CLOSED_NAMESPACE);
    const id = (await crictl(['runp', pod])).stdout.trim();
    const ctr = path.join(path.dirname(pod), 'container-preloaded.json');
    await fs.writeFile(ctr, JSON.stringify({ metadata: { name: 'preloaded' }, image: { image: c.image }, command: ['/bin/sleep', '3600'], log_path: 'preloaded.log', linux: {} }) + '\n');
    await crictl(['create', '--no-pull', id, ctr, pod]);
    await crictl(['rmp', '-f', id]);
    await crictl(['rmi', c.image]);
  },
};

/** The bare matrix's cases, images resolved as the tool resolves them (the pause image from CRI-O's config). */
export async function bareMatrix(cases = MATRIX) {
  const ctx = createContext({ root: '/', dryRun: false, json: false, verbose: false, yes: true }, { log: silentLog });
  const resolved = [];
  for (const c of cases) {
    if (!procedures[c.procedure]) throw new Error(`bare-matrix.mjs has no calls for the procedure ${c.procedure} of case ${c.name}: add them, as run.ts makes them`);
    resolved.push(c.imageOf ? { ...c, image: await c.imageOf(ctx) } : c);
  }
  const groups = new Map();
  for (const c of resolved) groups.set(c.serial ?? c.name, [...(groups.get(c.serial ?? c.name) ?? []), c]);
  // Pod configs are written once per run by the tool too: before the clock.
  for (const ns of new Set([OPEN_NAMESPACE, CLOSED_NAMESPACE, ...resolved.map((c) => c.namespace).filter(Boolean)])) await podConfig(ctx, 'matrix', ns);
  return {
    /** One bare run of every case; milliseconds. A `test` in between removes the additions: put back before the clock. */
    async run() {
      await addNodeAdditions(ctx, additionsOf(resolved));
      const t0 = performance.now();
      await Promise.all([...groups.values()].map(async (group) => {
        for (const c of group) await procedures[c.procedure](ctx, c);
      }));
      return performance.now() - t0;
    },
    done: () => removeNodeAdditions(ctx),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const bare = await bareMatrix();
  try {
    console.log(`bare matrix (${MATRIX.length} cases): ${(await bare.run()).toFixed(0)} ms`);
  } finally {
    await bare.done();
  }
}
