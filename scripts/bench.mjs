#!/usr/bin/env node
// npm run bench: the tool's cost measured side by side with the bare commands it wraps, on the
// lab (run `sudo crio-sigpoc setup --from source` first). Ratios matter, not absolute times.
import { $ } from 'zx';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

const status = await median(5, () => sigpoc(['status']));
row('crio-sigpoc status', status, '', 0, 1000);
const setup = await median(3, () => sigpoc(['setup', '--from', 'source', '--yes']));
row('crio-sigpoc setup (converged lab)', setup, '', 0, 3000);
