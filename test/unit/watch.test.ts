// watch on a copy of the recorded CRI-O v1.36.3 log: the real CLI, a state directory of its own,
// lines appended while it runs, its metrics endpoint and textfile, Ctrl-C.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SignatureEvent } from '../../src/crio/log-events.js';
import { eventsFromText } from '../../src/crio/log-events.js';
import { rejectionFacts, rejectionsCheck } from '../../src/status/rejections.js';
import { parseListen, SignatureMetrics } from '../../src/watch/metrics.js';
import { followFile, followJournal, parseDuration } from '../../src/watch/source.js';
import { signatureRequired } from '../../src/watch/verified.js';
import { createContext } from '../../src/core/context.js';

const MATRIX = readFileSync('test/fixtures/recorded/crio-1.36.3-matrix.log.recorded.txt', 'utf8');
const KUBELET = readFileSync('test/fixtures/recorded/crio-1.36.3-kubelet-pulls.log.recorded.txt', 'utf8');

function stateWithLog(text: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sigpoc-watch-'));
  mkdirSync(path.join(dir, 'logs'));
  writeFileSync(path.join(dir, 'logs', 'crio.log'), text);
  return dir;
}

async function until(what: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(50);
  }
}

test('durations and listen addresses', () => {
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('2d'), 172_800_000);
  assert.equal(parseDuration('1 hour'), undefined);
  assert.equal(parseDuration('10'), undefined);
  assert.deepEqual(parseListen('127.0.0.1:9899', false), { host: '127.0.0.1', port: 9899 });
  assert.deepEqual(parseListen('[::1]:9899', false), { host: '::1', port: 9899 });
  assert.throws(() => parseListen('0.0.0.0:9899', false), /not a loopback address/);
  assert.throws(() => parseListen('10.0.0.5:9899', false), /not a loopback address/);
  assert.deepEqual(parseListen('0.0.0.0:9899', true), { host: '0.0.0.0', port: 9899 });
  assert.throws(() => parseListen('127.0.0.1', false), /HOST:PORT/);
  assert.throws(() => parseListen('127.0.0.1:70000', false), /HOST:PORT/);
});

test('metrics: refusals by reason, namespace and stage; accepted pulls by namespace and policy', async () => {
  const m = new SignatureMetrics();
  for (const e of eventsFromText(MATRIX)) m.count(e);
  const text = await m.text();
  assert.match(text, /^crio_sigpoc_signature_rejections_total\{reason="invalid-signature",namespace="sigpoc-closed",stage="create"\} 1$/m);
  assert.match(text, /^crio_sigpoc_signature_rejections_total\{reason="no-signature",namespace="",stage="pull"\} 5$/m);
  assert.match(text, /^crio_sigpoc_pulls_accepted_total\{namespace="sigpoc-open",policy="\/etc\/crio\/policies\/sigpoc-open.json",verified="unknown"\} 2$/m);
});

test('followFile: lines appended later, a partial line held back, a truncated file read again from its start', async () => {
  const dir = stateWithLog('old\n');
  const file = path.join(dir, 'logs', 'crio.log');
  const stop = new AbortController();
  const seen: string[] = [];
  const done = (async () => {
    for await (const l of followFile(file, false, stop.signal, 20)) seen.push(l);
  })();
  await sleep(100);
  appendFileSync(file, 'one\ntw');
  await sleep(100);
  assert.deepEqual(seen, ['one']);
  appendFileSync(file, 'o\n');
  await until(() => seen.length === 2);
  writeFileSync(file, 'new\n');
  await until(() => seen.length === 3);
  stop.abort();
  await done;
  assert.deepEqual(seen, ['one', 'two', 'new']);
});

test('status: the refusals of the last hour, counted by reason, from the log file', async () => {
  const dir = stateWithLog(MATRIX);
  const ctx = createContext({ dryRun: false, json: false, verbose: false, root: '/', yes: false });
  ctx.stateDir = dir;
  const f = await rejectionFacts(ctx, 'supervised', new Date('2026-12-02T20:30:00Z'));
  assert.equal(f.rejections?.length, 11);
  const c = rejectionsCheck(f);
  assert.match(c.detail, /^11 in /);
  assert.match(c.evidence!, /^ {3}5× at pull: SignatureValidationFailed: Source image rejected: A signature was required, but no signature exists$/m);
  assert.match(c.evidence!, /^ {3}1× at create: SignatureValidationFailed: cryptographic signature verification failed/m);
  const later = await rejectionFacts(ctx, 'supervised', new Date('2026-12-02T21:00:00Z'));
  assert.equal(later.rejections?.length, 0);
  assert.match(rejectionsCheck(later).detail, /^none in /);
});

test('watch CLI: --since replays, --json lines, metrics served, textfile written, Ctrl-C exits 130', async () => {
  const dir = stateWithLog(MATRIX);
  const prom = path.join(dir, 'sigpoc.prom');
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'watch', '--json', '--since', '3650d', '--metrics-listen', `127.0.0.1:${port}`, '--textfile', prom], {
    env: { ...process.env, CRIO_SIGPOC_STATE_DIR: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const events = (): SignatureEvent[] => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as SignatureEvent);
  try {
    await until(() => events().length === 17);
    appendFileSync(path.join(dir, 'logs', 'crio.log'), KUBELET);
    await until(() => events().length === 19);
    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(body, /^crio_sigpoc_signature_rejections_total\{reason="no-signature",namespace="default",stage="pull"\} 1$/m);
    assert.match(body, /^crio_sigpoc_signature_rejections_total\{reason="invalid-signature",namespace="sigpoc-closed",stage="create"\} 1$/m);
    assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
    assert.match(readFileSync(prom, 'utf8'), /namespace="default",stage="pull"\} 1$/m);
  } finally {
    child.kill('SIGINT');
  }
  const [code] = (await once(child, 'exit')) as [number];
  assert.equal(code, 130, err);
  assert.equal(events().filter((e) => e.outcome === 'rejected').length, 12);
});

test('a journalctl that replays the recorded journal of the guest: followJournal yields its JSON lines and stops it on abort', async () => {
  const bin = mkdtempSync(path.join(os.tmpdir(), 'sigpoc-fake-journalctl-'));
  const fixture = path.resolve('test/fixtures/recorded/crio-1.36.3-guest-journal.recorded.jsonl');
  writeFileSync(path.join(bin, 'journalctl'), `#!/bin/sh\necho "$@" > "${bin}/argv"\ncat "${fixture}"\nexec sleep 60\n`, { mode: 0o755 });
  const saved = process.env.PATH;
  process.env.PATH = `${bin}:${saved}`;
  try {
    const stop = new AbortController();
    const lines: string[] = [];
    for await (const l of followJournal(['-u', 'crio', '-o', 'json', '-f', '-n', '0'], stop.signal)) {
      lines.push(l);
      if (lines.length === 47) stop.abort();
    }
    assert.equal(eventsFromText(lines.join('\n'), 'journal-json').length, 8);
    assert.equal(readFileSync(path.join(bin, 'argv'), 'utf8').trim(), '-u crio -o json -f -n 0');
  } finally {
    process.env.PATH = saved;
  }
});

test('verified: the scope deciding for the image in the policy file CRI-O named requires a signature, or not', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'sigpoc-verified-'));
  mkdirSync(path.join(root, 'etc/crio'), { recursive: true });
  const policy = {
    default: [{ type: 'reject' }],
    transports: {
      docker: {
        '127.0.0.1:5003': [{ type: 'sigstoreSigned', keyPath: '/etc/crio-sigpoc/cosign.pub', signedIdentity: { type: 'matchRepository' } }],
        '127.0.0.1:5003/pause': [{ type: 'insecureAcceptAnything' }],
      },
    },
  };
  writeFileSync(path.join(root, 'etc/crio/policy.json'), JSON.stringify(policy));
  writeFileSync(path.join(root, 'etc/crio/broken.json'), '{"default": [');
  const ctx = createContext({ dryRun: false, json: false, verbose: false, root, yes: false });
  assert.equal(await signatureRequired(ctx, '/etc/crio/policy.json', '127.0.0.1:5003/matrix/cosign-v2:v1'), true);
  assert.equal(await signatureRequired(ctx, '/etc/crio/policy.json', '127.0.0.1:5003/pause:3.10'), false);
  assert.equal(await signatureRequired(ctx, '/etc/crio/policy.json', 'docker.io/library/alpine:3'), false);
  assert.equal(await signatureRequired(ctx, '/etc/crio/gone.json', '127.0.0.1:5003/alpine:3.20.3'), undefined);
  assert.equal(await signatureRequired(ctx, '/etc/crio/broken.json', '127.0.0.1:5003/alpine:3.20.3'), undefined);
  assert.equal(await signatureRequired(ctx, '', '127.0.0.1:5003/alpine:3.20.3'), undefined);
});
