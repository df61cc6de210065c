// /proc/net/tcp{,6} recorded on this machine with real listeners: python3 -m http.server bound to
// 127.0.0.1:15003, 0.0.0.0:15004 and [::1]:15005 (ports other than the registry's, so as not to
// disturb it); registries.conf drop-ins as the tool and a user would write them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderInsecureRegistry } from '../../src/registry/registries-conf.js';
import { listeningSockets } from '../../src/core/proc.js';
import { loopbackCheck, plainHttpCheck, plainHttpMarking } from '../../src/status/registry-exposure.js';

const tcp = readFileSync('test/fixtures/status/proc-net-tcp.listeners-15003-15004.recorded.txt', 'utf8');
const tcp6 = readFileSync('test/fixtures/status/proc-net-tcp6.listener-15005.recorded.txt', 'utf8');

test('recorded: listening addresses are decoded per port, IPv4 and IPv6', () => {
  const listenersOnPort = (table: string, port: number): string[] => listeningSockets(table, port).map((l) => l.addr);
  assert.deepEqual(listenersOnPort(tcp, 15003), ['127.0.0.1']);
  assert.deepEqual(listenersOnPort(tcp, 15004), ['0.0.0.0']);
  assert.deepEqual(listenersOnPort(tcp6, 15005), ['::1']);
  assert.deepEqual(listenersOnPort(tcp, 15005), []);
});

test('loopback only is ok; a listener on all interfaces is a problem with the fix', () => {
  assert.equal(loopbackCheck(['127.0.0.1']).level, 'ok');
  assert.equal(loopbackCheck(['::1']).level, 'ok');
  const exposed = loopbackCheck(['127.0.0.1', '0.0.0.0']);
  assert.equal(exposed.level, 'problem');
  assert.match(exposed.detail, /open on 0\.0\.0\.0: the test registry \(plain HTTP, no auth\) is reachable from other hosts/);
  assert.match(exposed.fix ?? '', /ss -ltnp/);
  assert.equal(loopbackCheck([]).level, 'warning');
});

test("the tool's drop-in marks the registry plain HTTP; without it, a problem that says why pulls fail", async () => {
  const ours = await plainHttpMarking([{ file: '/etc/containers/registries.conf.d/50-crio-sigpoc-insecure.conf', text: renderInsecureRegistry(['127.0.0.1:5003', 'localhost:5003']) }]);
  assert.deepEqual(ours, { file: '/etc/containers/registries.conf.d/50-crio-sigpoc-insecure.conf', insecure: true });
  assert.equal(plainHttpCheck(ours).level, 'ok');
  const none = plainHttpCheck(await plainHttpMarking([{ file: '/etc/containers/registries.conf', text: 'unqualified-search-registries = ["docker.io"]\n' }]));
  assert.equal(none.level, 'problem');
  assert.match(none.detail, /every pull from it fails on TLS/);
});

test('a later drop-in that sets insecure = false wins, as in the library', async () => {
  const m = await plainHttpMarking([
    { file: '/etc/containers/registries.conf.d/50-crio-sigpoc-insecure.conf', text: renderInsecureRegistry(['127.0.0.1:5003']) },
    { file: '/etc/containers/registries.conf.d/90-site.conf', text: '[[registry]]\nlocation = "127.0.0.1:5003"\ninsecure = false\n' },
  ]);
  assert.deepEqual(m, { file: '/etc/containers/registries.conf.d/90-site.conf', insecure: false });
});
