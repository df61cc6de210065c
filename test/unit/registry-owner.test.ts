// /proc/net/tcp{,6} recorded on this machine while the lab's docker-registry listened on
// 127.0.0.1:5003 (socket inode 546511), and the output of a real `docker push` to it.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, symlinkSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { listenersOn } from '../../src/core/proc.js';
import { checkedDigest, isDigest, pushedDigest } from '../../src/registry/digest.js';
import { ownsRegistry } from '../../src/registry/owner.js';
import { SigpocError } from '../../src/core/errors.js';

const fixtures = 'test/fixtures/registry';

/** A /proc with the recorded tables and one process holding the listener's socket as fd 3. */
function procTree(pid: number, socketInode: string): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'sigpoc-proc-'));
  mkdirSync(path.join(root, 'net'));
  copyFileSync(path.join(fixtures, 'proc-net-tcp.registry-5003.recorded.txt'), path.join(root, 'net/tcp'));
  copyFileSync(path.join(fixtures, 'proc-net-tcp6.recorded.txt'), path.join(root, 'net/tcp6'));
  mkdirSync(path.join(root, String(pid), 'fd'), { recursive: true });
  symlinkSync(`socket:[${socketInode}]`, path.join(root, String(pid), 'fd/3'));
  symlinkSync('/dev/null', path.join(root, String(pid), 'fd/0'));
  return root;
}

test('the listener on 127.0.0.1:5003 and the process holding it are found from /proc', () => {
  const root = procTree(8053, '546511');
  assert.deepEqual(listenersOn(5003, '127.0.0.1', root), [{ uid: 0, inode: '546511', pids: [8053] }]);
  assert.deepEqual(listenersOn(5004, '127.0.0.1', root), []);
});

test('a listener whose holder /proc does not show is reported with no pids (not guessed)', () => {
  const root = procTree(8053, '999999');
  assert.deepEqual(listenersOn(5003, '127.0.0.1', root), [{ uid: 0, inode: '546511', pids: [] }]);
});

test('the tool started the process or an ancestor of it: ours', () => {
  assert.equal(ownsRegistry(process.pid, { pid: process.pid }, 'docker-registry serve x.yml'), true);
  assert.equal(ownsRegistry(process.pid, { pid: process.ppid }, 'node'), true);
});

test('a process the tool did not start is not ours, whatever it is called', () => {
  assert.equal(ownsRegistry(process.ppid, { pid: process.pid }, 'docker-registry serve x.yml'), false);
  assert.equal(ownsRegistry(process.pid, {}, 'python3 -m http.server --bind 127.0.0.1 5003'), false);
});

test('docker-proxy is ours only when it forwards the registry port to our container', () => {
  const proxy = '/usr/sbin/docker-proxy -proto tcp -host-ip 127.0.0.1 -host-port 5003 -container-ip 172.17.0.2 -container-port 5000';
  assert.equal(ownsRegistry(1, { containerIp: '172.17.0.2' }, proxy), true);
  assert.equal(ownsRegistry(1, { containerIp: '172.17.0.3' }, proxy), false);
  assert.equal(ownsRegistry(1, { containerIp: '172.17.0.2' }, proxy.replace('-host-port 5003', '-host-port 50031')), false);
  assert.equal(ownsRegistry(1, {}, proxy), false);
});

test('the digest docker push produced is read from its output', () => {
  const out = readFileSync(path.join(fixtures, 'docker-push.recorded.txt'), 'utf8');
  assert.equal(pushedDigest(out), 'sha256:e056a0e3eb2694c682a81da381dcb86c9d65bf5ff6cc6fed6940b8750e4f4ef0');
  assert.equal(pushedDigest('The push refers to repository [127.0.0.1:5003/x]\n63328d3e4746: Layer already exists\n'), undefined);
});

test('a malformed digest in docker push output is refused with its value', () => {
  assert.throws(() => pushedDigest('v1: digest: sha256:E056A0 size: 527\n'), (e: SigpocError) => e.exitCode === 3 && /docker push gave "sha256:E056A0"/.test(e.message));
});

test('digests are sha256: and 64 lowercase hex digits, nothing else', () => {
  const good = 'sha256:e056a0e3eb2694c682a81da381dcb86c9d65bf5ff6cc6fed6940b8750e4f4ef0';
  assert.equal(isDigest(good), true);
  for (const bad of [good.toUpperCase(), good.slice(0, -1), `${good}0`, good.replace('sha256', 'sha512'), `${good}\n`, `../${good}`, '']) assert.equal(isDigest(bad), false, bad);
  assert.equal(checkedDigest(good, 'x'), good);
  assert.throws(() => checkedDigest('sha256:../../etc', "the registry's Docker-Content-Digest"), /Docker-Content-Digest gave "sha256:\.\.\/\.\.\/etc", which is not a digest/);
});
