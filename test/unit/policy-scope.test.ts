// Image names and scopes as containers/image reads them (docker/reference, policyconfiguration/naming.go,
// signature/policy_eval.go): the order here is the order the library tries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { versionAtLeast } from '../../src/policy/library-version.js';
import { decidingScope, lookupChain, normaliseImage, parseScope, scopeChain } from '../../src/policy/scope.js';

test('short names expand like the library: alpine is docker.io/library/alpine:latest', () => {
  assert.deepEqual(normaliseImage('alpine'), { name: 'docker.io/library/alpine', domain: 'docker.io', path: 'library/alpine', tag: 'latest', digest: undefined, shortName: true });
  assert.equal(normaliseImage('bitnami/redis:7').name, 'docker.io/bitnami/redis');
  assert.equal(normaliseImage('index.docker.io/alpine').name, 'docker.io/library/alpine');
  assert.equal(normaliseImage('docker.io/alpine').shortName, false);
  assert.equal(normaliseImage('localhost/app:1').domain, 'localhost');
  assert.equal(normaliseImage('127.0.0.1:5003/alpine:3.20.3').domain, '127.0.0.1:5003');
});

test('a tag given with a digest is dropped, as CRI-O does before pulling', () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  const ref = normaliseImage(`127.0.0.1:5003/alpine:3.20.3@${digest}`);
  assert.equal(ref.tag, undefined);
  assert.equal(ref.digest, digest);
  assert.equal(ref.droppedTag, '3.20.3');
});

test('names the library refuses are refused with a usage error', () => {
  assert.throws(() => normaliseImage('Alpine'), /lowercase/);
  assert.throws(() => normaliseImage('a'.repeat(64)), /image ID/);
  assert.throws(() => normaliseImage('127.0.0.1:5003/alpine:'), /not a valid image reference/);
});

test('lookup order: name:tag, repository, parent namespaces, host:port, then *.domain with the port stripped', () => {
  assert.deepEqual(lookupChain(normaliseImage('registry.example.com:5000/team/app/api:1.2')), [
    'registry.example.com:5000/team/app/api:1.2',
    'registry.example.com:5000/team/app/api',
    'registry.example.com:5000/team/app',
    'registry.example.com:5000/team',
    'registry.example.com:5000',
    '*.example.com',
    '*.com',
  ]);
  assert.deepEqual(lookupChain(normaliseImage('alpine')), ['docker.io/library/alpine:latest', 'docker.io/library/alpine', 'docker.io/library', 'docker.io', '*.io']);
  assert.deepEqual(lookupChain(normaliseImage(`127.0.0.1:5003/alpine@sha256:${'b'.repeat(64)}`)).slice(0, 3), [`127.0.0.1:5003/alpine@sha256:${'b'.repeat(64)}`, '127.0.0.1:5003/alpine', '127.0.0.1:5003']);
});

test('the most specific scope decides; a wildcard only after the host; "" before the default', () => {
  const scopes = { '': [], '*.example.com': [], 'a.example.com/team': [], 'a.example.com/team/app:1': [] };
  assert.equal(decidingScope(scopes, normaliseImage('a.example.com/team/app:1')), 'a.example.com/team/app:1');
  assert.equal(decidingScope(scopes, normaliseImage('a.example.com/team/app:2')), 'a.example.com/team');
  assert.equal(decidingScope(scopes, normaliseImage('b.example.com:8443/x:1')), '*.example.com');
  assert.equal(decidingScope(scopes, normaliseImage('example.com/x:1')), '', 'the apex does not match its own wildcard');
  assert.equal(decidingScope({}, normaliseImage('example.com/x:1')), undefined, 'then the global default');
});

test('scopes no image can produce are named with the scope that was meant', () => {
  const never = (s: string): string => {
    const p = parseScope(s);
    assert.equal(p.kind, 'never-matches', s);
    return p.kind === 'never-matches' ? p.fix : '';
  };
  assert.match(never('myregistry.com/critical/*'), /"myregistry\.com\/critical"/);
  assert.match(never('*.example.com/ns'), /"\*\.example\.com"/);
  assert.match(never('*.example.com:5000'), /"\*\.example\.com"/);
  assert.match(never('alpine'), /"docker\.io\/library\/alpine"/);
  assert.match(never('myorg/app'), /"docker\.io\/myorg\/app"/);
  assert.match(never('index.docker.io/library/alpine'), /"docker\.io\/library\/alpine"/);
  assert.match(never('https://quay.io/org'), /"quay\.io\/org"/);
  assert.match(never('ghcr.io/Org/App'), /"ghcr\.io\/org\/app"/);
  assert.match(never(`quay.io/a:1@sha256:${'c'.repeat(64)}`), /@sha256/);
  for (const ok of ['', '127.0.0.1:5003', 'localhost:5000/x', '*.example.com', 'docker.io/library/alpine:3.20', 'registry.k8s.io']) {
    assert.notEqual(parseScope(ok).kind, 'never-matches', ok);
  }
});

test('registries.d keys that apply under a policy scope follow the same walk', () => {
  assert.deepEqual(scopeChain(parseScope('127.0.0.1:5003')), ['127.0.0.1:5003', '*.0.0.1', '*.0.1', '*.1']);
  assert.deepEqual(scopeChain(parseScope('*.example.com')), ['*.example.com', '*.com']);
  assert.deepEqual(scopeChain(parseScope('quay.io/org/app')), ['quay.io/org/app', 'quay.io/org', 'quay.io', '*.io']);
  assert.deepEqual(scopeChain(parseScope('')), []);
});

test('library versions: a pre-release or Go pseudo-version sorts before its release', () => {
  assert.equal(versionAtLeast('5.38.0', '5.32.2'), true);
  assert.equal(versionAtLeast('5.32.2', '5.32.2'), true);
  assert.equal(versionAtLeast('5.32.1', '5.32.2'), false);
  assert.equal(versionAtLeast('5.29.3-0.20240409133913-ea4fcca19343', '5.32.2'), false);
  assert.equal(versionAtLeast('5.32.2-0.20240801000000-abcdef123456', '5.32.2'), false);
  assert.equal(versionAtLeast('6.0.0', '5.35.0'), true);
});
