// The lab, for real: setup from source, then the iteration loop a user runs, against the real
// CRI-O, crictl, cosign, registry and dockerd of this machine. Runs as root (CI does).
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { promises as fs } from 'node:fs';
import { before, describe, test } from 'node:test';
import { explain, json, running, sigpoc, systemSnapshot } from './helpers.js';

const SIGNED = '127.0.0.1:5003/alpine:3.20.3';
const UNSIGNED = '127.0.0.1:5003/unsigned/alpine:3.20.3';

async function inCrioStorage(image: string): Promise<boolean> {
  const r = await execa('crictl', ['--runtime-endpoint', 'unix:///var/run/crio/crio.sock', 'inspecti', image], { reject: false });
  return r.exitCode === 0;
}

describe('lab: real CRI-O, cosign, crictl and registry on this machine', () => {
  let pristine: Record<string, string>;

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the end-to-end suite runs as root (it installs and starts CRI-O)');
    // Start from a machine the tool has not touched (a previous run may have left its lab).
    const r = await sigpoc(['clean-all', '--yes']);
    assert.equal(r.exitCode, 0, explain(r));
    pristine = await systemSnapshot();
  });

  test('setup --from source --yes builds or reuses the pinned binaries and brings CRI-O up', async () => {
    const r = await sigpoc(['setup', '--from', 'source', '--yes', '--json']);
    assert.equal(r.exitCode, 0, explain(r));
    const v = await execa('crictl', ['--runtime-endpoint', 'unix:///var/run/crio/crio.sock', 'version'], { reject: false });
    assert.equal(v.exitCode, 0, `CRI-O does not answer after setup: ${v.stderr}`);
    assert.match(String(v.stdout), /RuntimeName:\s+cri-o/);
    assert.match(String(v.stdout), /RuntimeVersion:\s+1\.36\.3/);
  });

  test('a second setup builds nothing and changes nothing', async () => {
    const r = await sigpoc(['setup', '--from', 'source', '--yes', '--json']);
    assert.equal(r.exitCode, 0, explain(r));
    const doc = json(r);
    const changed = doc.steps.filter((s: { changed: boolean }) => s.changed);
    assert.deepEqual(changed.map((s: { id: string }) => s.id), [], 'steps that did work on a converged lab');
  });

  test('test: CRI-O accepts the signed image and rejects the unsigned one with SignatureValidationFailed', async () => {
    const r = await sigpoc(['test', '--offline', '--json']);
    assert.equal(r.exitCode, 0, explain(r));
    const { verdicts } = json(r);
    const signed = verdicts.find((v: { name: string }) => v.name === 'signed');
    const unsigned = verdicts.find((v: { name: string }) => v.name === 'unsigned');
    assert.equal(signed.actual, 'accepted', signed.reason);
    assert.equal(unsigned.actual, 'rejected', unsigned.reason);
    assert.match(unsigned.reason, /SignatureValidationFailed/);
    assert.match(unsigned.reason, /A signature was required, but no signature exists/);
    assert.equal(await inCrioStorage(SIGNED), true);
    assert.equal(await inCrioStorage(UNSIGNED), false);
  });

  test("CRI-O's own log names the policy file the tool installed for each pull", async () => {
    const r = await sigpoc(['test', '--offline', '--json']);
    const { verdicts } = json(r);
    const cfg = await sigpoc(['status', '--json']);
    for (const v of verdicts) assert.equal(v.policyPath, '/etc/crio/policy.json', `${v.name}: ${explain(cfg)}`);
    const installed = JSON.parse(await fs.readFile('/etc/crio/policy.json', 'utf8'));
    assert.equal(installed.transports.docker['127.0.0.1:5003'][0].type, 'sigstoreSigned');
  });

  test('a second test redoes only the verdicts', async () => {
    const r = await sigpoc(['test', '--offline', '--json']);
    assert.equal(r.exitCode, 0, explain(r));
    const doc = json(r);
    assert.deepEqual(doc.steps.filter((s: { changed: boolean }) => s.changed).map((s: { id: string }) => s.id), []);
    assert.equal(doc.verdicts.length >= 2, true);
  });

  test('clean removes the test images from CRI-O, and test then verifies afresh', async () => {
    const c = await sigpoc(['clean']);
    assert.equal(c.exitCode, 0, explain(c));
    assert.equal(await inCrioStorage(SIGNED), false);
    const r = await sigpoc(['test', '--offline', '--json']);
    assert.equal(r.exitCode, 0, explain(r));
  });

  test('clean-all restores every touched system file byte for byte and stops everything it started', async () => {
    const r = await sigpoc(['clean-all', '--yes']);
    assert.equal(r.exitCode, 0, explain(r));
    assert.deepEqual(await systemSnapshot(), pristine);
    for (const name of ['crio', 'dockerd', 'docker-registry', 'conmon']) assert.deepEqual(await running(name), [], `${name} still running`);
  });

  test('test without CRI-O exits 3 and says which command brings it up', async () => {
    const r = await sigpoc(['test', '--offline']);
    assert.equal(r.exitCode, 3, explain(r));
    assert.match(r.stderr, /CRI-O is not reachable/);
    assert.match(r.stderr, /next: sudo crio-sigpoc setup --from source/);
  });
});
