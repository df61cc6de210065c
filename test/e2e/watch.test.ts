// watch against the real lab: CRI-O v1.36.3 refusing the matrix's images while `watch --json` and
// its metrics endpoint follow CRI-O's own log. Every refusal of the matrix must be told once, with
// CRI-O's reason and the stage it happened at, and the counters must say the same. Runs as root.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SignatureEvent } from '../../src/crio/log-events.js';
import { CLOSED_NAMESPACE, OPEN_NAMESPACE } from '../../src/verify/matrix/lab-config.js';
import { MATRIX } from '../../src/verify/matrix/cases.js';
import { explain, json, namespaceOf, policyFileFor, repo, sigpoc } from './helpers.js';

interface Verdict {
  name: string;
  image: string;
  actual: string;
  reason: string;
}

interface Watcher {
  child: ChildProcessWithoutNullStreams;
  events(): SignatureEvent[];
  stderr(): string;
}

function startWatch(args: string[]): Promise<Watcher> {
  const child = spawn(process.execPath, [path.join(repo, 'dist/cli.js'), 'watch', '--json', ...args], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const w: Watcher = { child, events: () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as SignatureEvent), stderr: () => err };
  return new Promise((resolve, reject) => {
    const t = setInterval(() => {
      if (err.includes('watching ')) {
        clearInterval(t);
        resolve(w);
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(t);
      reject(new Error(`watch exited ${code} before it started:\n${err}`));
    });
  });
}

async function stop(w: Watcher): Promise<number | null> {
  if (w.child.exitCode !== null) return w.child.exitCode;
  const exited = once(w.child, 'exit');
  w.child.kill('SIGINT');
  const [code] = (await exited) as [number | null];
  return code;
}

/** Prometheus text lines of one metric: labels as a string, and the value. */
function samples(text: string, metric: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(`^${metric}\\{([^}]*)\\} (\\S+)$`, 'gm'))) out.set(m[1], Number(m[2]));
  return out;
}

describe('watch: every refusal of the matrix, as CRI-O logs it, and counters that agree', () => {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  let tmp: string;
  let watcher: Watcher | undefined;
  let verdicts: Verdict[];
  let live: SignatureEvent[];
  let metricsText: string;
  let exitCode: number | null;

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the end-to-end suite runs as root (it installs and starts CRI-O)');
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'sigpoc-watch-e2e-'));
    for (const args of [['clean-all', '--yes'], ['setup', '--from', 'source', '--yes'], ['test', '--offline']]) {
      // The first matrix run prepares the images (build, push, sign); the watched one only pulls.
      const r = await sigpoc(args);
      assert.equal(r.exitCode, 0, `${args.join(' ')}: ${explain(r)}`);
    }
    watcher = await startWatch(['--metrics-listen', `127.0.0.1:${port}`, '--textfile', path.join(tmp, 'sigpoc.prom')]);
    const r = await sigpoc(['test', '--offline', '--json']);
    assert.equal(r.exitCode, 0, explain(r));
    verdicts = json(r).verdicts;
    const refusals = verdicts.filter((v) => v.actual === 'rejected').length + 1; // case 10 is refused twice
    const deadline = Date.now() + 15_000;
    while (watcher.events().filter((e) => e.outcome === 'rejected').length < refusals && Date.now() < deadline) await sleep(100);
    await sleep(1_000); // a duplicate would show up now
    metricsText = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    live = watcher.events();
    exitCode = await stop(watcher);
  });

  after(async () => {
    if (watcher) await stop(watcher);
    await fs.rm(tmp, { recursive: true, force: true });
    const r = await sigpoc(['clean-all', '--yes']);
    assert.equal(r.exitCode, 0, explain(r));
  });

  test('Ctrl-C ends watch with exit 130', () => {
    assert.equal(exitCode, 130, watcher!.stderr());
  });

  test('every refusal of the matrix appears exactly once, with its reason and stage', () => {
    const rejected = live.filter((e) => e.outcome === 'rejected');
    const expected: { image: string; stage: string; namespace?: string; reasonIn: string }[] = [];
    for (const v of verdicts.filter((x) => x.actual === 'rejected')) {
      if (v.name === 'preloaded') {
        const [pull, create] = v.reason.replace(/^pull: /, '').split(' | create: ');
        expected.push({ image: v.image, stage: 'pull', reasonIn: pull }, { image: v.image, stage: 'create', namespace: CLOSED_NAMESPACE, reasonIn: create });
      } else {
        expected.push({ image: v.image, stage: 'pull', namespace: namespaceOf(v.name), reasonIn: v.reason });
      }
    }
    const rejectedCases = MATRIX.filter((c) => c.expected === 'rejected').length;
    assert.equal(expected.length, rejectedCases + 1, 'each rejected case once, case 10 refused at pull and at creation too');
    assert.equal(rejected.length, expected.length, JSON.stringify(rejected, null, 1));
    for (const x of expected) {
      const found = rejected.filter((e) => e.image === x.image && e.stage === x.stage && e.namespace === x.namespace);
      assert.equal(found.length, 1, `${x.stage} ${x.image} ${x.namespace ?? ''}: ${JSON.stringify(found)}`);
      const e = found[0];
      assert.match(e.reason!, /^SignatureValidationFailed: /);
      // The verdict holds crictl's words for the same refusal; watch read them from CRI-O's log.
      assert.ok(x.reasonIn.includes(e.reason!), `${x.image}: "${e.reason}" not in the verdict's "${x.reasonIn}"`);
      assert.notEqual(e.reasonKind, 'other', e.reason);
      if (x.stage === 'pull') assert.equal(e.policy, policyFileFor(x.namespace), x.image);
      else assert.equal(e.container, 'preloaded');
      assert.ok(e.time && Math.abs(Date.now() - new Date(e.time).getTime()) < 600_000, `${x.image}: time ${e.time}`);
    }
  });

  test('accepted pulls include every accepted case, the open namespace with its own policy file', () => {
    const accepted = live.filter((e) => e.outcome === 'accepted');
    for (const v of verdicts.filter((x) => x.actual === 'accepted')) assert.ok(accepted.some((e) => e.image === v.image), `${v.name}: ${v.image}`);
    const open = accepted.filter((e) => e.namespace === OPEN_NAMESPACE);
    assert.ok(open.length >= 2, 'namespace-open and the preloading of case 10');
    for (const e of open) assert.equal(e.policy, `/etc/crio/policies/${OPEN_NAMESPACE}.json`);
    // Verified: the scope deciding in the policy file CRI-O named requires a signature; the pause
    // image's scope (case allowed-scope) lets it in without one.
    for (const v of verdicts.filter((x) => x.actual === 'accepted')) {
      const e = accepted.find((x) => x.image === v.image && x.namespace === namespaceOf(v.name)) as SignatureEvent & { verified?: boolean };
      assert.equal(e.policy, policyFileFor(namespaceOf(v.name)), v.name);
      assert.equal(e.verified, v.name !== 'allowed-scope', `${v.name}: ${JSON.stringify(e)}`);
    }
  });

  test('the counters match the lines: by reason, namespace and stage, and accepted pulls', async () => {
    const want = new Map<string, number>();
    for (const e of live.filter((x) => x.outcome === 'rejected')) {
      const key = `reason="${e.reasonKind}",namespace="${e.namespace ?? ''}",stage="${e.stage}"`;
      want.set(key, (want.get(key) ?? 0) + 1);
    }
    assert.deepEqual(samples(metricsText, 'crio_sigpoc_signature_rejections_total'), want);
    const acceptedSamples = samples(metricsText, 'crio_sigpoc_pulls_accepted_total');
    const sum = (pick: (labels: string) => boolean): number => [...acceptedSamples].filter(([l]) => pick(l)).reduce((a, [, n]) => a + n, 0);
    const events = live.filter((e) => e.outcome === 'accepted') as (SignatureEvent & { verified?: boolean })[];
    assert.equal(sum(() => true), events.length);
    assert.equal(sum((l) => l.includes('verified="true"')), events.filter((e) => e.verified === true).length);
    // The textfile was written after the last event and again on exit: the same counts.
    const prom = await fs.readFile(path.join(tmp, 'sigpoc.prom'), 'utf8');
    assert.deepEqual(samples(prom, 'crio_sigpoc_signature_rejections_total'), want);
  });

  test('--since replays the same refusals from the log', async () => {
    const replay = await startWatch(['--since', '30m']);
    const ids = live.filter((e) => e.outcome === 'rejected').map((e) => e.requestId);
    const deadline = Date.now() + 15_000;
    const seen = (): Set<string | undefined> => new Set(replay.events().map((e) => e.requestId));
    while (!ids.every((id) => seen().has(id)) && Date.now() < deadline) await sleep(100);
    assert.equal(await stop(replay), 130);
    for (const id of ids) assert.ok(seen().has(id), `request ${id} not replayed`);
  });

  test('status counts the refusals of the last hour by reason', async () => {
    const r = await sigpoc(['status', '--json']);
    const c = json(r).checks.find((x: { id: string }) => x.id === 'signature-rejections');
    assert.ok(c, explain(r));
    // At least the two matrix runs of this suite (the log file outlives clean-all, so it may hold more).
    const n = Number(/^(\d+) in /.exec(c.detail)?.[1]);
    assert.ok(n >= 24, c.detail);
    assert.match(c.evidence, /at create: SignatureValidationFailed: cryptographic signature verification failed/);
    assert.match(c.evidence, /at pull: SignatureValidationFailed: Source image rejected: A signature was required, but no signature exists/);
  });
});
