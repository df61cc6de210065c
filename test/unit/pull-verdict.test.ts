// crictl pull outputs recorded from the real crictl 1.36 against the real CRI-O 1.36.3 of the lab
// (test/fixtures/recorded/crictl-pull-*.recorded.txt), classified as a user needs them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { policyPathsFromLog } from '../../src/crio/log-events.js';
import { classifyPull } from '../../src/verify/pull-verdict.js';

const recorded = (name: string, exitCode: number) => ({
  exitCode,
  stdout: readFileSync(`test/fixtures/recorded/crictl-pull-${name}.stdout.recorded.txt`, 'utf8'),
  stderr: readFileSync(`test/fixtures/recorded/crictl-pull-${name}.stderr.recorded.txt`, 'utf8'),
  timedOut: false,
});

test('recorded: a signed pull is accepted', () => {
  const o = classifyPull(recorded('signed', 0));
  assert.equal(o.actual, 'accepted');
  assert.match(o.reason, /^pulled \(8026ae4ad7c3/);
});

test('recorded: an unsigned pull is rejected with SignatureValidationFailed and the library reason', () => {
  const o = classifyPull(recorded('unsigned', 1));
  assert.equal(o.actual, 'rejected');
  assert.equal(o.reason, 'SignatureValidationFailed: Source image rejected: A signature was required, but no signature exists');
});

test('recorded: another key fails cryptographic verification', () => {
  const o = classifyPull(recorded('other-key', 1));
  assert.equal(o.actual, 'rejected');
  assert.match(o.reason, /^SignatureValidationFailed: .*cryptographic signature verification failed/);
});

test('recorded: a copied signature names the identity it was made for', () => {
  const o = classifyPull(recorded('copied', 1));
  assert.equal(o.actual, 'rejected');
  assert.match(o.reason, /Signature for identity "127.0.0.1:5003\/alpine" is not accepted/);
});

test('recorded: a registry name the policy does not list is rejected by the default', () => {
  const o = classifyPull(recorded('other-name', 1));
  assert.equal(o.actual, 'rejected');
  assert.match(o.reason, /Running image docker:\/\/localhost:5003\/alpine:3.20.3 is rejected by policy\.$/);
});

test('a pull failure without the signature reason is an error, never a rejection', () => {
  const stderr = 'time="2026-11-25T02:07:55Z" level=fatal msg="pulling image: rpc error: code = Unknown desc = pinging container registry 127.0.0.1:5003: Get \\"http://127.0.0.1:5003/v2/\\": dial tcp 127.0.0.1:5003: connect: connection refused"';
  const o = classifyPull({ exitCode: 1, stdout: '', stderr, timedOut: false });
  assert.equal(o.actual, 'error');
  assert.match(o.reason, /connection refused/);
});

test('a timed-out pull is an error', () => {
  assert.equal(classifyPull({ exitCode: 1, stdout: '', stderr: '', timedOut: true }).actual, 'error');
});

test("CRI-O's debug line names the policy file of each pull, in order", () => {
  const log = [
    'time="2026-11-25T02:10:00Z" level=debug msg="Using pull policy path for image 127.0.0.1:5003/matrix/namespaced:v1: \\"/etc/crio/policies/sigpoc-open.json\\"" file="server/image_pull.go:148"',
    'time="2026-11-25T02:10:01Z" level=debug msg="Using pull policy path for image 127.0.0.1:5003/alpine:3.20.3: \\"/etc/crio/policy.json\\"" file="server/image_pull.go:148"',
    'time="2026-11-25T02:10:02Z" level=debug msg="Using pull policy path for image 127.0.0.1:5003/matrix/namespaced:v1: \\"/etc/crio/policy.json\\"" file="server/image_pull.go:148"',
  ].join('\n');
  assert.deepEqual(policyPathsFromLog(log, '127.0.0.1:5003/matrix/namespaced:v1'), ['/etc/crio/policies/sigpoc-open.json', '/etc/crio/policy.json']);
  assert.deepEqual(policyPathsFromLog(log, '127.0.0.1:5003/alpine:3.20.3'), ['/etc/crio/policy.json']);
});
