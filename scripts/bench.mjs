#!/usr/bin/env node
// npm run bench: the tool's cost measured side by side with the same work done bare, on the lab
// (run `sudo crio-sigpoc setup --from source` first; as root). Each pair is interleaved in one
// run (tool, bare, bare, tool, ...) so that a change of load hits both alike. Ratios matter, not
// absolute times. `-- --json FILE` also writes every figure (median, min, max, runs) as JSON.
import { $ } from 'zx';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createContext, defaultStateDir } from '../dist/core/context.js';
import { withUndo } from '../dist/core/interrupt.js';
import { readCrioConfig } from '../dist/crio/config.js';
import { podConfigDoc } from '../dist/crio/pod-config.js';
import { policyText } from '../dist/policy/render.js';
import { signArgs } from '../dist/registry/cosign.js';
import { silentLog } from '../dist/ui/log.js';
import { bareMatrix } from './bare-matrix.mjs';

$.verbose = false;
$.quiet = true;
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(repo, 'dist/cli.js');
const endpoint = ['--runtime-endpoint', 'unix:///var/run/crio/crio.sock'];
const crictl = (args) => $`crictl ${endpoint} ${args}`.nothrow();
const SIGNED = '127.0.0.1:5003/alpine:3.20.3';
const UNSIGNED = '127.0.0.1:5003/unsigned/alpine:3.20.3';
const jsonAt = process.argv.includes('--json') ? process.argv[process.argv.indexOf('--json') + 1] : undefined;
if (process.argv.includes('--json') && !jsonAt) {
  console.error('usage: npm run bench [-- --json FILE]');
  process.exit(2);
}

const stats = (times) => {
  const s = [...times].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1], runs: s.length };
};
const timeOf = async (fn) => {
  const t0 = performance.now();
  const measured = await fn();
  return typeof measured === 'number' ? measured : performance.now() - t0;
};

const results = [];
/** Pod and container configs of the run, removed at the end. */
const tmpDirs = [];
const ms = (n) => `${n.toFixed(0)} ms`;
const spread = (s) => `${s.min.toFixed(0)}–${s.max.toFixed(0)}`;

/** The tool against its bare equivalent, interleaved; the target is on the ratio of medians. */
async function pair(name, tool, bareName, bare, { runs, target, slackMs = 0 }) {
  const [a, b] = [[], []];
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) a.push(await timeOf(tool)), b.push(await timeOf(bare));
    else b.push(await timeOf(bare)), a.push(await timeOf(tool));
  }
  const [sa, sb] = [stats(a), stats(b)];
  const ratio = sa.median / sb.median;
  const limit = target * sb.median + slackMs;
  const ok = sa.median <= limit;
  results.push({ name, tool: sa, bareName, bare: sb, ratio, target: slackMs ? `≤ ${target}× bare + ${slackMs} ms` : `≤ ${target}×`, ok });
  console.log(`${name.padEnd(36)} ${ms(sa.median).padStart(9)} (${spread(sa)})   vs ${bareName.padEnd(34)} ${ms(sb.median).padStart(9)} (${spread(sb)})   ${ratio.toFixed(2)}×   target ${slackMs ? `≤ ${target}× + ${slackMs} ms` : `≤ ${target}×`}  ${ok ? 'ok' : 'OVER TARGET'}`);
}

async function absolute(name, fn, { runs, targetMs }) {
  const times = [];
  for (let i = 0; i < runs; i++) times.push(await timeOf(fn));
  const s = stats(times);
  results.push({ name, tool: s, target: `≤ ${targetMs} ms`, ok: s.median <= targetMs });
  console.log(`${name.padEnd(36)} ${ms(s.median).padStart(9)} (${spread(s)})   target ≤ ${targetMs} ms  ${s.median <= targetMs ? 'ok' : 'OVER TARGET'}`);
}

/** A figure without a target: CRI-O's own cost, shown for users, not for the tool. */
async function compare(name, a, bName, b, { runs }) {
  const [ta, tb] = [[], []];
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) ta.push(await timeOf(a)), tb.push(await timeOf(b));
    else tb.push(await timeOf(b)), ta.push(await timeOf(a));
  }
  const [sa, sb] = [stats(ta), stats(tb)];
  results.push({ name, tool: sa, bareName: bName, bare: sb, ratio: sa.median / sb.median });
  console.log(`${name.padEnd(36)} ${ms(sa.median).padStart(9)} (${spread(sa)})   vs ${bName.padEnd(34)} ${ms(sb.median).padStart(9)} (${spread(sb)})   +${(sa.median - sb.median).toFixed(0)} ms`);
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
  tmpDirs.push(dir);
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
const mustPass = async (args) => {
  const r = await sigpoc(args);
  if (r.exitCode !== 0) throw new Error(`crio-sigpoc ${args.join(' ')} exited ${r.exitCode} during the benchmark:\n${r.stdout}${r.stderr}`);
};

const ready = await crictl(['version']);
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
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
const machine = { cpus: os.cpus().length, model: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), kernel: os.release(), node: process.version, loadBefore: load() };
console.log(`machine: ${machine.cpus} × ${machine.model}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}; load average ${machine.loadBefore}\n`);

const nodeBare = () => $`node -e 0`;
await pair('crio-sigpoc --help', () => sigpoc(['--help']), 'node -e 0', nodeBare, { runs: 15, target: 1.4 });
await pair('crio-sigpoc test --list', () => sigpoc(['test', '--list']), 'node -e 0', nodeBare, { runs: 15, target: 1.5 });

const barePull = async (image) => {
  await crictl(['rmi', image]);
  await crictl(['pull', image]);
};
await pair('test --case signed unsigned', () => mustPass(['test', '--offline', '--case', 'signed', 'unsigned']), 'the same 2 cases bare (rmi + pull each)', () => Promise.all([barePull(SIGNED), barePull(UNSIGNED)]), { runs: 7, target: 1.3 });

const bare = await bareMatrix();
await withUndo(
  () => pair('test (whole matrix)', () => mustPass(['test', '--offline']), 'the same matrix bare (scripts/bare-matrix.mjs)', () => bare.run(), { runs: 5, target: 1.2 }),
  () => bare.done(),
  "the matrix's additions may be left on the node: crio-sigpoc clean removes them",
);

// verify of one image: start-up plus one pull, against the same rmi + pull done bare.
await pair('verify (1 image)', async () => {
  await crictl(['rmi', SIGNED]);
  await sigpoc(['verify', SIGNED]);
}, 'rmi + pull bare', () => barePull(SIGNED), { runs: 7, target: 1.2, slackMs: 150 });

// CRI-O's own cost of verification: the same pull under insecureAcceptAnything (a namespace policy
// for exactly this repository, which exists only while it is measured) and under sigstoreSigned.
{
  const ctx = createContext({ root: '/', dryRun: false, json: false, verbose: false, yes: true }, { log: silentLog });
  const ns = 'sigpoc-bench-unverified';
  const file = path.join((await readCrioConfig('/')).signaturePolicyDir.value, `${ns}.json`);
  const open = { default: [{ type: 'reject' }], transports: { docker: { [SIGNED.replace(/:[^:/]+$/, '')]: [{ type: 'insecureAcceptAnything' }] } } };
  await withUndo(
    async () => {
      await ctx.files.install(file, policyText(open), 0o644);
      // In a temporary dir, not the state dir: the bench leaves nothing there for clean-all to miss.
      tmpDirs.push(await fs.mkdtemp(path.join(os.tmpdir(), 'crio-sigpoc-bench-')));
      const pod = path.join(tmpDirs.at(-1), 'pod.json');
      await fs.writeFile(pod, JSON.stringify(podConfigDoc(ctx, ns)));
      await compare('CRI-O pull, sigstoreSigned', () => barePull(SIGNED), 'the same pull, insecureAcceptAnything', async () => {
        await crictl(['rmi', SIGNED]);
        await crictl(['pull', '--pod-config', pod, SIGNED]);
      }, { runs: 9 });
    },
    async () => void (await ctx.files.remove(file)),
    `${file} may be left on the node (it admits ${SIGNED} unverified in namespace ${ns}): remove it, or crio-sigpoc clean-all`,
  );
}

// audit of 50 distinct images that containers on the node use, against the same 50 pulls by
// digest done bare with the same concurrency (4).
const AUDIT_IMAGES = 50;
const auditPod = await prepareAudit(AUDIT_IMAGES);
try {
  const queue4 = async (refs) => {
    const queue = [...refs];
    await Promise.all([0, 1, 2, 3].map(async () => {
      for (let ref = queue.shift(); ref; ref = queue.shift()) await crictl(['pull', ref]);
    }));
  };
  await pair(`audit (${AUDIT_IMAGES} images)`, () => sigpoc(['audit', '--concurrency', '4']), `${AUDIT_IMAGES} pulls bare, 4 at a time`, () => queue4(auditPod.refs), { runs: 3, target: 1.2 });
} finally {
  await crictl(['rmp', '-f', auditPod.id]);
}

await absolute('status', () => sigpoc(['status']), { runs: 7, targetMs: 500 });
await absolute('setup, converged lab', () => mustPass(['setup', '--from', 'source', '--yes']), { runs: 5, targetMs: 1000 });

for (const d of tmpDirs) await fs.rm(d, { recursive: true, force: true });
machine.loadAfter = load();
console.log(`\nload average after: ${machine.loadAfter}`);
if (jsonAt) await fs.writeFile(jsonAt, JSON.stringify({ date: new Date().toISOString(), machine, results }, null, 2) + '\n');
