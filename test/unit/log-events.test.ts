// CRI-O's log read for signature decisions. The log-file fixtures are recorded from the real CRI-O
// v1.36.3 of the lab (debug level, as the tool's drop-in sets it): one run of the whole matrix
// (test/fixtures/recorded/crio-1.36.3-matrix.log.recorded.txt, lines of every request and of the
// library, interleaved as CRI-O wrote them) and two pulls kubelet made for pods. The journal
// fixture (test/fixtures/recorded/crio-1.36.3-guest-journal.recorded.jsonl) is recorded by the
// guest suite: `journalctl -u crio -o json` on the Debian 12 systemd guest while `crio-sigpoc test`
// ran its guest cases there.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { eventsFromText, parseJournalLine, parseLogLine, reasonKind, SignatureEvents } from '../../src/crio/log-events.js';

const fixture = (p: string): string => readFileSync(`test/fixtures/${p}`, 'utf8');
const matrix = eventsFromText(fixture('recorded/crio-1.36.3-matrix.log.recorded.txt'));
const rejected = matrix.filter((e) => e.outcome === 'rejected');

test('recorded matrix run: every refusal once, ten at pull and one at creation (case 10)', () => {
  assert.equal(rejected.length, 11);
  assert.deepEqual(
    rejected.filter((e) => e.stage === 'create').map((e) => e.image),
    ['127.0.0.1:5003/matrix/preloaded:v1'],
  );
  assert.equal(new Set(rejected.map((e) => e.requestId)).size, 11);
  for (const e of rejected) assert.match(e.reason!, /^SignatureValidationFailed: /);
});

test('recorded: a pull refusal has the image, the library words without the artifact noise, and the policy file', () => {
  const e = rejected.find((x) => x.image === '127.0.0.1:5003/matrix/copied:3.20.3')!;
  assert.equal(e.stage, 'pull');
  assert.equal(e.reason, 'SignatureValidationFailed: Source image rejected: Signature for identity "127.0.0.1:5003/alpine" is not accepted');
  assert.equal(e.reasonKind, 'identity-not-accepted');
  assert.equal(e.policy, '/etc/crio/policy.json');
  assert.equal(e.time, '2026-12-02T19:55:12.864383332Z');
  assert.equal(e.namespace, undefined);
});

test('recorded: the refusal at container creation names pod, namespace, container and the library words, and no policy file', () => {
  const e = rejected.find((x) => x.stage === 'create')!;
  assert.equal(e.namespace, 'sigpoc-closed');
  assert.equal(e.pod, 'sigpoc-sigpoc-closed');
  assert.equal(e.container, 'preloaded');
  assert.equal(e.reason, 'SignatureValidationFailed: cryptographic signature verification failed: invalid signature when validating ASN.1 encoded signature');
  assert.equal(e.policy, undefined);
});

test('recorded: a namespaced pull carries the namespace policy file CRI-O logged', () => {
  const open = matrix.filter((e) => e.namespace === 'sigpoc-open');
  assert.deepEqual(
    open.map((e) => [e.outcome, e.policy]),
    [
      ['accepted', '/etc/crio/policies/sigpoc-open.json'],
      ['accepted', '/etc/crio/policies/sigpoc-open.json'],
    ],
  );
  const closed = rejected.find((e) => e.stage === 'pull' && e.namespace === 'sigpoc-closed')!;
  assert.equal(closed.policy, '/etc/crio/policy.json');
  assert.equal(closed.reasonKind, 'invalid-signature');
});

test('recorded: reasons by kind across the matrix', () => {
  const counts: Record<string, number> = {};
  for (const e of rejected) counts[e.reasonKind!] = (counts[e.reasonKind!] ?? 0) + 1;
  assert.deepEqual(counts, { 'invalid-signature': 4, 'no-signature': 5, 'identity-not-accepted': 1, 'rejected-by-policy': 1 });
});

test('recorded: accepted pulls are the successful PullImage responses', () => {
  assert.deepEqual(
    matrix.filter((e) => e.outcome === 'accepted').map((e) => e.image),
    [
      '127.0.0.1:5003/alpine:3.20.3',
      '127.0.0.1:5003/pause:3.10',
      '127.0.0.1:5003/matrix/multi-recursive:v1',
      '127.0.0.1:5003/matrix/namespaced:v1',
      '127.0.0.1:5003/matrix/cosign-v2:v1',
      '127.0.0.1:5003/matrix/preloaded:v1',
    ],
  );
});

test('recorded kubelet pulls: pod and namespace from the sandbox config, not from the annotations', () => {
  const events = eventsFromText(fixture('recorded/crio-1.36.3-kubelet-pulls.log.recorded.txt'));
  assert.deepEqual(
    events.map((e) => [e.outcome, e.namespace, e.pod, e.image]),
    [
      ['accepted', 'default', 'signed-alpine-crio', '127.0.0.1:5003/alpine:3.20.3'],
      ['rejected', 'default', 'unsigned-alpine-crio', '127.0.0.1:5003/unsigned/alpine:3.20.3'],
    ],
  );
});

test("recorded on the systemd guest: the journal's entries give every decision of the guest cases, the same as CRI-O's lines would", () => {
  const journal = fixture('recorded/crio-1.36.3-guest-journal.recorded.jsonl');
  const fromJournal = eventsFromText(journal, 'journal-json');
  const brief = fromJournal.map((e) => [e.outcome, e.stage, e.namespace ?? '-', (e.image ?? '').replace('127.0.0.1:5003/', ''), e.reasonKind ?? '', e.policy ?? '']);
  assert.deepEqual(brief, [
    ['rejected', 'pull', '-', 'unsigned/alpine:3.20.3', 'no-signature', '/etc/crio/policy.json'],
    ['rejected', 'pull', '-', 'matrix/other-key:v1', 'invalid-signature', '/etc/crio/policy.json'],
    ['accepted', 'pull', 'sigpoc-open', 'matrix/namespaced:v1', '', '/etc/crio/policies/sigpoc-open.json'],
    ['accepted', 'pull', '-', 'alpine:3.20.3', '', '/etc/crio/policy.json'],
    ['accepted', 'pull', 'sigpoc-open', 'matrix/preloaded:v1', '', '/etc/crio/policies/sigpoc-open.json'],
    ['rejected', 'pull', '-', 'matrix/preloaded:v1', 'invalid-signature', '/etc/crio/policy.json'],
    ['rejected', 'pull', 'sigpoc-closed', 'matrix/namespaced:v1', 'invalid-signature', '/etc/crio/policy.json'],
    ['rejected', 'create', 'sigpoc-closed', 'matrix/preloaded:v1', 'invalid-signature', ''],
  ]);
  for (const e of fromJournal.filter((x) => x.outcome === 'rejected')) assert.match(e.reason ?? '', /^SignatureValidationFailed: /);
  // The journal's MESSAGE is CRI-O's own line: read as a log file, the same events come out.
  const messages = journal.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { MESSAGE: string }).MESSAGE).join('\n');
  assert.deepEqual(eventsFromText(messages), fromJournal);
});

test('journal: the time falls back to __REALTIME_TIMESTAMP, a MESSAGE in bytes is decoded, junk is skipped', () => {
  const rec = parseJournalLine(JSON.stringify({ __REALTIME_TIMESTAMP: '1796241313880659', MESSAGE: [...Buffer.from('plain words')] }));
  assert.deepEqual(rec, { msg: 'plain words', time: '2026-12-02T19:55:13.880Z' });
  assert.equal(parseJournalLine('-- No entries --'), undefined);
  assert.equal(parseJournalLine('{"__CURSOR":"s=1"}'), undefined);
});

test('a key=value inside a quoted message is not a field of the line', () => {
  const r = parseLogLine('time="T" level=debug msg="x id=nope name=nope" id=real name=/runtime.v1.ImageService/PullImage')!;
  assert.equal(r.id, 'real');
  assert.equal(r.msg, 'x id=nope name=nope');
});

test('a request watch joined midway still gets its image from "Pulling image"; other errors are no event', () => {
  const r = new SignatureEvents();
  const rpc = '/runtime.v1.ImageService/PullImage';
  assert.equal(r.feed({ id: 'a', rpc, msg: 'Pulling image: reg/x:1' }), undefined);
  assert.equal(r.feed({ id: 'a', rpc, msg: 'Response error: SignatureValidationFailed: unable to pull image or OCI artifact: pull image err: Source image rejected: A signature was required, but no signature exists; artifact err: x' })?.image, 'reg/x:1');
  assert.equal(r.feed({ id: 'b', rpc, msg: 'Response error: pinging container registry: connection refused' }), undefined);
  assert.equal(r.feed({ id: 'c', rpc: '/runtime.v1.RuntimeService/StartContainer', msg: 'Response error: SignatureValidationFailed: x' }), undefined);
});

test('reason kinds: words the library does not use are other', () => {
  assert.equal(reasonKind('SignatureValidationFailed: Source image rejected: something new'), 'other');
});

test("reason kinds: the library's words for your own CA and for GPG simple signing", () => {
  const rejected = 'SignatureValidationFailed: Source image rejected: ';
  assert.equal(reasonKind(`${rejected}veryfing leaf certificate failed: x509: certificate signed by unknown authority`), 'invalid-signature');
  assert.equal(reasonKind(`${rejected}Required email "signer@crio-sigpoc.test" not found (got []string{"someone-else@crio-sigpoc.test"})`), 'identity-not-accepted');
  assert.equal(reasonKind(`${rejected}Unexpected subject hostname "a.example"`), 'identity-not-accepted');
  assert.equal(reasonKind(`${rejected}Key not found for key ID 0123456789abcdef in signature`), 'invalid-signature');
});
