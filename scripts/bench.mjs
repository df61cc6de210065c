#!/usr/bin/env node
// npm run bench: the tool's cost measured side by side with the bare commands it wraps, on the
// lab (run `sudo crio-sigpoc setup --from source` first). Ratios matter, not absolute times.
import { $ } from 'zx';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultStateDir } from '../dist/core/context.js';
import { podConfigDoc } from '../dist/crio/pod-config.js';
import { signArgs } from '../dist/registry/cosign.js';

$.verbose = false;
$.quiet = true;
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(repo, 'dist/cli.js');
const endpoint = ['--runtime-endpoint', 'unix:///var/run/crio/crio.sock'];
const SIGNED = '127.0.0.1:5003/alpine:3.20.3';
const UNSIGNED = '127.0.0.1:5003/unsigned/alpine:3.20.3';

async function median(runs, fn) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * Distinct images signed with the tool's key (one label each over the signed image), each used by
 * a created container of one pod: what `audit` finds on a node running 50 workloads.
 */
async function prepareAudit(n) {
  const key = '/var/lib/crio-sigpoc/keys/cosign.key';
  const password = process.env.COSIGN_PASSWORD || (await fs.readFile('/var/lib/crio-sigpoc/keys/cosign.password', 'utf8').catch(() => ''));
  const major = Number(/GitVersion:\s+v(\d+)/.exec((await $`cosign version`).stdout)?.[1]);
  await $`docker pull ${SIGNED}`;
  const refs = [];
  for (let i = 0; i < n; i++) {
    const tag = `127.0.0.1:5003/bench/audit-${i}:1`;
    await $({ input: `FROM ${SIGNED}\nLABEL bench.audit=${i}\n` })`docker build -q -t ${tag} -`;
    const push = await $`docker push ${tag}`;
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(push.stdout)[1];
    const byDigest = `127.0.0.1:5003/bench/audit-${i}@${digest}`;
    await $({ env: { ...process.env, COSIGN_PASSWORD: password } })`cosign ${signArgs(major, key, byDigest)}`;
    refs.push(byDigest);
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'crio-sigpoc-bench-'));
  const pod = path.join(dir, 'pod.json');
  // The product's sandbox config (host network, pod PID namespace); a container in it asks for the same namespaces.
  const sandbox = podConfigDoc({ stateDir: defaultStateDir('/') }, 'bench-audit', 'bench-audit');
  await fs.writeFile(pod, JSON.stringify(sandbox));
  const id = (await $`crictl ${endpoint} runp ${pod}`).stdout.trim();
  for (const [i, ref] of refs.entries()) {
    const ctr = path.join(dir, `ctr-${i}.json`);
    await fs.writeFile(ctr, JSON.stringify({ metadata: { name: `c${i}` }, image: { image: ref }, command: ['/bin/sleep', '3600'], log_path: `c${i}.log`, linux: { security_context: { namespace_options: sandbox.linux.security_context.namespace_options } } }));
    await $`crictl ${endpoint} create --with-pull ${id} ${ctr} ${pod}`;
  }
  return { id, refs };
}

const sigpoc = (args) => $`node ${cli} ${args}`.nothrow();
const row = (name, ms, baseName, baseMs, target) => {
  const ratio = baseMs ? ms / baseMs : undefined;
  const verdict = target === undefined ? '' : (ratio ?? ms) <= target ? 'ok' : 'OVER TARGET';
  console.log(
    `${name.padEnd(34)} ${ms.toFixed(0).padStart(7)} ms` +
      (baseMs ? `   vs ${baseName.padEnd(30)} ${baseMs.toFixed(0).padStart(7)} ms   ratio ${ratio.toFixed(2)}×` : ''.padEnd(56)) +
      (target === undefined ? '' : `   target ${baseMs ? `≤ ${target}×` : `≤ ${target} ms`}  ${verdict}`),
  );
};

const ready = await $`crictl ${endpoint} version`.nothrow();
if (ready.exitCode !== 0) {
  console.error('CRI-O does not answer: run `sudo crio-sigpoc setup --from source` (or setup) first, as root.');
  process.exit(3);
}
// Warm the lab: everything prepared, so the timed runs redo only verdicts.
const warm = await sigpoc(['test', '--offline']);
if (warm.exitCode !== 0) {
  console.error(`crio-sigpoc test failed before the benchmark:\n${warm.stdout}${warm.stderr}`);
  process.exit(1);
}

const nodeBare = await median(15, () => $`node -e 0`);
const help = await median(15, () => sigpoc(['--help']));
row('crio-sigpoc --help', help, 'node -e 0', nodeBare, 1.4);

const bare = await median(5, async () => {
  await $`crictl ${endpoint} rmi ${SIGNED}`.nothrow();
  await $`crictl ${endpoint} pull ${SIGNED}`;
  await $`crictl ${endpoint} pull ${UNSIGNED}`.nothrow();
});
const two = await median(5, () => sigpoc(['test', '--offline', '--case', 'signed', 'unsigned']));
row('crio-sigpoc test (2 cases, warm)', two, 'bare rmi + 2 pulls', bare, 1.1);
const matrix = await median(5, () => sigpoc(['test', '--offline']));
row('crio-sigpoc test (whole matrix)', matrix, 'bare rmi + 2 pulls', bare, 1.0);

// verify of one image: start-up plus one pull, against the same rmi + pull done bare.
const bareOne = await median(5, async () => {
  await $`crictl ${endpoint} rmi ${SIGNED}`.nothrow();
  await $`crictl ${endpoint} pull ${SIGNED}`;
});
const verifyOne = await median(5, async () => {
  await $`crictl ${endpoint} rmi ${SIGNED}`.nothrow();
  await sigpoc(['verify', SIGNED]);
});
row('crio-sigpoc verify (1 image)', verifyOne, 'bare rmi + pull', bareOne, undefined);
console.log(`${''.padEnd(34)} target ≤ 1.2 × bare + 150 ms = ${(1.2 * bareOne + 150).toFixed(0)} ms  ${verifyOne <= 1.2 * bareOne + 150 ? 'ok' : 'OVER TARGET'}`);

// audit of 50 distinct images that containers on the node use, against the same 50 pulls by
// digest done bare with the same concurrency (4).
const AUDIT_IMAGES = 50;
const auditPod = await prepareAudit(AUDIT_IMAGES);
try {
  const refs = auditPod.refs;
  const bareAudit = await median(3, async () => {
    const queue = [...refs];
    await Promise.all([0, 1, 2, 3].map(async () => {
      for (let ref = queue.shift(); ref; ref = queue.shift()) await $`crictl ${endpoint} pull ${ref}`;
    }));
  });
  const audit = await median(3, () => sigpoc(['audit', '--concurrency', '4']));
  row(`crio-sigpoc audit (${AUDIT_IMAGES} images)`, audit, `bare ${AUDIT_IMAGES} pulls, 4 at a time`, bareAudit, 1.2);
} finally {
  await $`crictl ${endpoint} rmp -f ${auditPod.id}`.nothrow();
}

const status = await median(5, () => sigpoc(['status']));
row('crio-sigpoc status', status, '', 0, 1000);
const setup = await median(3, () => sigpoc(['setup', '--from', 'source', '--yes']));
row('crio-sigpoc setup (converged lab)', setup, '', 0, 3000);
