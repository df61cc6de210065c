// Seeded generator of policy.json files, registries.d trees and image names for the differential
// test against the library: mostly what people write (the lab's policy, Fulcio, PKI, GPG, other
// transports, namespace scopes, wildcards), mutated into what people get wrong (unknown and
// duplicate keys, wrong types, empty values, bad base64, bad references, invalid scopes, broken
// JSON and YAML, quoted booleans, duplicate namespaces, a directory named x.yaml, URLs that do
// not parse, image names with bad digests).

/** mulberry32: small, fast, and the same sequence on every platform for a seed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

/** A JSON object that may hold the same key twice, as a file can. */
export class Obj {
  constructor(public entries: [string, Json][] = []) {}
  set(k: string, v: Json): this {
    const e = this.entries.find(([key]) => key === k);
    if (e) e[1] = v;
    else this.entries.push([k, v]);
    return this;
  }
  get(k: string): Json | undefined {
    return this.entries.find(([key]) => key === k)?.[1];
  }
  delete(k: string): this {
    this.entries = this.entries.filter(([key]) => key !== k);
    return this;
  }
}
export type Json = Obj | Json[] | string | number | boolean | null;

export function serialise(v: Json, indent = '', pretty = true): string {
  const nl = pretty ? '\n' : '';
  const inner = pretty ? `${indent}  ` : '';
  if (v instanceof Obj) {
    if (!v.entries.length) return '{}';
    return `{${nl}${v.entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${serialise(x, inner, pretty)}`).join(`,${nl}`)}${nl}${indent}}`;
  }
  if (Array.isArray(v)) return v.length ? `[${v.map((x) => serialise(x, inner, false)).join(', ')}]` : '[]';
  return JSON.stringify(v);
}

const HEX = '0123456789abcdef';
const hex = (r: Rng, n: number): string => Array.from({ length: n }, () => HEX[r.int(16)]).join('');

const HOSTS = ['127.0.0.1:5003', 'quay.io', 'docker.io', 'registry.k8s.io', 'ghcr.io', 'registry.example.com', 'localhost:5000', 'myregistry.com', 'a.b.example.com', 'gcr.io'];
const NAMESPACES = ['library', 'team', 'critical', 'apps/backend', 'matrix', 'sigpoc'];
const REPOS = ['alpine', 'pause', 'busybox', 'app', 'nginx', 'tool-x', 'web_api'];
const TAGS = ['latest', '3.20.3', 'v1', '1.0-rc.1', '3.10'];
const KEY_PATHS = ['/etc/containers/keys/crio-sigpoc-cosign.pub', '/etc/pki/cosign.pub', '/etc/containers/keys/other.pub', 'relative/cosign.pub', ''];
// A real P-256 public key's DER in base64, and other base64 that parses.
const KEY_DATA = [
  'LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0KTUZrd0V3WUhLb1pJemowQ0FRWUlLb1pJemowREFRY0RRZ0FFCi0tLS0tRU5EIFBVQkxJQyBLRVktLS0tLQo=',
  'AAAA',
  'aGVsbG8=',
  'aGVsbG8',
  'not base64!',
  'YQ==YQ==',
  '',
  'AB\nCD',
];

function image(r: Rng, opts: { host?: string; path?: string } = {}): string {
  const host = opts.host ?? r.pick(HOSTS);
  const p = opts.path ?? (r.chance(0.5) ? `${r.pick(NAMESPACES)}/${r.pick(REPOS)}` : r.pick(REPOS));
  const name = `${host}/${p}`;
  switch (r.int(6)) {
    case 0:
      return name;
    case 1:
    case 2:
      return `${name}:${r.pick(TAGS)}`;
    case 3:
      return `${name}@sha256:${hex(r, 64)}`;
    case 4:
      return `${name}:${r.pick(TAGS)}@sha256:${hex(r, 64)}`;
    default:
      return `${name}@sha512:${hex(r, 128)}`;
  }
}

/** Names that CRI-O (shortnames, the reference parser) may or may not accept. */
function hostileImage(r: Rng): string {
  const name = `${r.pick(HOSTS)}/${r.pick(REPOS)}`;
  return r.pick([
    `${name}@sha256:${hex(r, 63)}`,
    `${name}@sha256:${hex(r, 65)}`,
    `${name}@sha256:${hex(r, 64).toUpperCase()}`,
    `${name}@sha1:${hex(r, 40)}`,
    `${name}@md5:${hex(r, 32)}`,
    `${name}@sha384:${hex(r, 96)}`,
    `${name}@sha512:${hex(r, 64)}`,
    `${name}@foo+bar:${hex(r, 64)}`,
    `${name}:${'t'.repeat(129)}`,
    `${name}:-bad`,
    `${r.pick(HOSTS)}/UPPER/${r.pick(REPOS)}`,
    `UPPER/${r.pick(REPOS)}`,
    `${r.pick(HOSTS)}/${'a'.repeat(250)}`,
    `${r.pick(HOSTS)}//x`,
    `${r.pick(REPOS)}`,
    `${r.pick(NAMESPACES)}/${r.pick(REPOS)}:${r.pick(TAGS)}`,
    `index.docker.io/${r.pick(REPOS)}`,
    `docker.io/${r.pick(REPOS)}`,
    `localhost/${r.pick(REPOS)}`,
    `${r.pick(HOSTS)}/${r.pick(REPOS)}:`,
    `${r.pick(HOSTS)}/a..b`,
    `[::1]:5000/${r.pick(REPOS)}`,
  ]);
}

function identity(r: Rng, hostile: boolean): Json {
  const repo = `${r.pick(HOSTS)}/${r.pick(NAMESPACES)}`;
  const good = [
    () => new Obj([['type', 'matchRepository']]),
    () => new Obj([['type', 'matchRepoDigestOrExact']]),
    () => new Obj([['type', 'matchExact']]),
    () => new Obj([['type', 'exactReference'], ['dockerReference', `${repo}/${r.pick(REPOS)}:${r.pick(TAGS)}`]]),
    () => new Obj([['type', 'exactRepository'], ['dockerRepository', `${repo}/${r.pick(REPOS)}`]]),
    () => new Obj([['type', 'remapIdentity'], ['prefix', r.pick(HOSTS)], ['signedPrefix', `${r.pick(HOSTS)}/${r.pick(NAMESPACES)}`]]),
  ];
  if (!hostile || r.chance(0.5)) return r.pick(good)();
  return r.pick<() => Json>([
    () => new Obj([['type', 'matchRepo']]),
    () => new Obj([['type', 'exactReference'], ['dockerReference', `${repo}/${r.pick(REPOS)}`]]),
    () => new Obj([['type', 'exactReference'], ['dockerReference', 'Not/Valid']]),
    () => new Obj([['type', 'exactReference']]),
    () => new Obj([['type', 'exactRepository'], ['dockerRepository', `${repo}/${r.pick(REPOS)}@sha256:${hex(r, 10)}`]]),
    () => new Obj([['type', 'exactRepository'], ['dockerRepository', `${repo}/${r.pick(REPOS)}:${r.pick(TAGS)}`]]),
    () => new Obj([['type', 'remapIdentity'], ['prefix', `${r.pick(HOSTS)}/`], ['signedPrefix', r.pick(HOSTS)]]),
    () => new Obj([['type', 'remapIdentity'], ['prefix', r.pick(REPOS)], ['signedPrefix', r.pick(HOSTS)]]),
    () => new Obj([['type', 'remapIdentity'], ['prefix', r.pick(HOSTS)]]),
    () => new Obj([['type', 'matchRepository'], ['extra', true]]),
    () => null,
    () => 'matchRepository',
    () => new Obj([['Type', 'matchRepository']]),
    () => new Obj([['type', 7]]),
  ])();
}

function sigstore(r: Rng, hostile: boolean): Obj {
  const o = new Obj([['type', 'sigstoreSigned']]);
  const source = r.int(hostile ? 8 : 6);
  if (source === 0) o.set('keyPath', r.pick(KEY_PATHS.slice(0, hostile ? 5 : 3)));
  else if (source === 1) o.set('keyPaths', [r.pick(KEY_PATHS.slice(0, 3)), r.pick(KEY_PATHS.slice(0, 3))].slice(0, 1 + r.int(2)));
  else if (source === 2) o.set('keyData', r.pick(KEY_DATA.slice(0, hostile ? 8 : 3)));
  else if (source === 3) o.set('keyDatas', [r.pick(KEY_DATA.slice(0, 3)), r.pick(KEY_DATA.slice(0, hostile ? 6 : 3))].slice(0, 1 + r.int(2)));
  else if (source === 4) {
    const f = new Obj();
    if (!hostile || r.chance(0.7)) f.set(r.chance(0.7) ? 'caPath' : 'caData', r.chance(0.5) ? '/etc/pki/fulcio.pem' : 'AAAA');
    if (!hostile || r.chance(0.7)) f.set('oidcIssuer', 'https://oauth2.sigstore.dev/auth');
    if (!hostile || r.chance(0.7)) f.set('subjectEmail', 'dev@example.com');
    if (hostile && r.chance(0.1)) f.set('subjectRegexp', '.*');
    o.set('fulcio', f);
    if (!hostile || r.chance(0.6)) o.set('rekorPublicKeyPath', '/etc/pki/rekor.pub');
  } else if (source === 5) {
    const p = new Obj();
    if (!hostile || r.chance(0.8)) p.set(r.chance(0.5) ? 'caRootsPath' : 'caRootsData', r.chance(0.5) ? '/etc/pki/roots.pem' : 'AAAA');
    if (r.chance(0.4)) p.set('caIntermediatesPath', '/etc/pki/intermediates.pem');
    if (!hostile || r.chance(0.6)) p.set(r.chance(0.5) ? 'subjectEmail' : 'subjectHostname', r.chance(0.5) ? 'dev@example.com' : 'build.example.com');
    o.set('pki', p);
  } else if (source === 6) {
    o.set('keyPath', KEY_PATHS[0]).set('keyData', 'AAAA');
  } else if (source === 7) {
    o.set(r.pick(['keyPaths', 'keyDatas', 'rekorPublicKeyPaths']), []);
  }
  if (r.chance(0.2)) o.set(r.pick(['rekorPublicKeyPath', 'rekorPublicKeyPaths', 'rekorPublicKeyData', 'rekorPublicKeyDatas']), r.pick<Json>(['/etc/pki/rekor.pub', ['/etc/pki/rekor.pub'], 'AAAA', ['AAAA']]));
  if (r.chance(0.85)) o.set('signedIdentity', identity(r, hostile));
  return o;
}

function requirement(r: Rng, hostile: boolean): Json {
  const kind = r.int(10);
  let o: Json;
  if (kind < 4) o = sigstore(r, hostile);
  else if (kind < 6) o = new Obj([['type', r.pick(['reject', 'insecureAcceptAnything'])]]);
  else if (kind < 8) {
    o = new Obj([['type', 'signedBy'], ['keyType', r.pick(hostile ? ['GPGKeys', 'signedByGPGKeys', 'X509Certificates', 'signedByX509CAs', 'gpg', ''] : ['GPGKeys', 'GPGKeys', 'X509Certificates'])]]);
    const src = r.int(hostile ? 5 : 3);
    if (src === 0) o.set('keyPath', '/etc/pki/containers/gpg.pub');
    else if (src === 1) o.set('keyPaths', ['/etc/pki/containers/a.gpg', '/etc/pki/containers/b.gpg']);
    else if (src === 2) o.set('keyData', r.pick(KEY_DATA.slice(0, 3)));
    else if (src === 3) o.set('keyPath', '/a').set('keyData', 'AAAA');
    if (r.chance(0.7)) o.set('signedIdentity', identity(r, hostile));
  } else if (kind < 9) o = new Obj([['type', 'signedBaseLayer'], ['baseLayerIdentity', identity(r, hostile)]]);
  else o = new Obj([['type', hostile ? r.pick(['cosignSigned', 'Reject', '']) : 'reject']]);
  if (hostile && o instanceof Obj && r.chance(0.15)) mutateObject(r, o);
  return o;
}

/** Wrong types, unknown and misspelt keys, null, duplicates: the mistakes of hand-written JSON. */
function mutateObject(r: Rng, o: Obj): void {
  const keys = o.entries.map(([k]) => k);
  switch (r.int(6)) {
    case 0:
      o.entries.push([r.pick(['keypath', 'KeyPath', 'comment', 'signedidentity', 'requirements']), 'x']);
      break;
    case 1:
      if (keys.length) o.set(r.pick(keys), r.pick<Json>([1, true, null, new Obj(), ['x'], 'x', 1.5e300]));
      break;
    case 2:
      if (keys.length) {
        const k = r.pick(keys);
        o.entries.push([k, o.get(k)!]);
      }
      break;
    case 3:
      if (keys.length) o.delete(r.pick(keys));
      break;
    case 4:
      o.entries.reverse();
      break;
    default:
      o.set('type', r.pick(['reject', 'sigstoreSigned', 'signedBy']));
  }
}

function dockerScope(r: Rng, hostile: boolean): string {
  const host = r.pick(HOSTS);
  const good = [host, `${host}/${r.pick(NAMESPACES)}`, `${host}/${r.pick(NAMESPACES)}/${r.pick(REPOS)}`, `*.${host.replace(/:.*$/, '').split('.').slice(-2).join('.')}`, `${host}/${r.pick(REPOS)}:${r.pick(TAGS)}`, `${host}/${r.pick(REPOS)}@sha256:${hex(r, 64)}`, ''];
  if (!hostile || r.chance(0.7)) return r.pick(good);
  return r.pick([`${host}/critical/*`, 'alpine', 'library/alpine', `https://${host}`, `${host}/`, `${host}/Upper`, `*.${host}:5000`, `*.${host}/x`, 'index.docker.io/library/alpine', `${host}/${r.pick(REPOS)}:${r.pick(TAGS)}@sha256:${hex(r, 64)}`, '*']);
}

function otherScope(r: Rng, transport: string, hostile: boolean): string {
  const good: Record<string, string[]> = {
    dir: ['/var/lib/images', '/srv/dir/x'],
    oci: ['/var/lib/oci', '/srv/oci:tag'],
    'oci-archive': ['/srv/a.tar'],
    sif: ['/srv/a.sif'],
    'containers-storage': ['[overlay@/var/lib/containers/storage]', '[/var/lib/containers/storage]docker.io/library/alpine', `[overlay@/var/lib/containers/storage]alpine@sha256:${hex(r, 64)}`],
    'docker-daemon': ['docker.io/library/alpine:latest', 'localhost:5000/x'],
    atomic: ['registry.example.com/ns/stream:tag', 'registry.example.com/ns'],
    'docker-archive': [''],
    tarball: [''],
    ostree: ['/anything'],
    made_up: ['whatever/you:like'],
  };
  const bad: Record<string, string[]> = {
    dir: ['relative/path', '/', '/var/lib//images', '/var/lib/images/', '/var/./x'],
    oci: ['relative', '/', '/a/../b'],
    'oci-archive': ['a.tar'],
    sif: ['x.sif', '/'],
    'containers-storage': ['alpine', '[relative]alpine', '[]x', '[overlay@relative]x', `[/s]x@sha256:${hex(r, 10)}`],
    'docker-daemon': [`sha256:${hex(r, 64)}`],
    atomic: ['a/b/c/d', 'a/b:c/d'],
    'docker-archive': ['/srv/a.tar'],
    tarball: ['/srv/a.tar'],
    ostree: [''],
    made_up: [''],
  };
  return r.pick(hostile && r.chance(0.6) ? bad[transport] : good[transport]);
}

const TRANSPORTS = ['dir', 'oci', 'oci-archive', 'sif', 'containers-storage', 'docker-daemon', 'atomic', 'docker-archive', 'tarball', 'ostree', 'made_up'];

export interface GeneratedPolicy {
  text: string;
  /** docker scopes, to derive image names that reach them. */
  scopes: string[];
}

export function generatePolicy(r: Rng): GeneratedPolicy {
  const hostile = r.chance(0.45);
  const reqs = (): Json[] => Array.from({ length: 1 + (r.chance(0.2) ? 1 : 0) }, () => requirement(r, hostile));
  const docker = new Obj();
  const scopes: string[] = [];
  for (let k = 0, n = 1 + r.int(5); k < n; k++) {
    const s = dockerScope(r, hostile);
    scopes.push(s);
    docker.set(s, reqs());
  }
  if (hostile && r.chance(0.1)) docker.entries.push([scopes[0], reqs()]);
  const transports = new Obj([['docker', docker]]);
  if (r.chance(0.3)) {
    const t = r.pick(TRANSPORTS);
    transports.set(t, new Obj([[otherScope(r, t, hostile), reqs()]]));
  }
  const doc = new Obj([['default', r.chance(0.8) ? [new Obj([['type', 'reject']])] : reqs()]]);
  if (r.chance(0.9)) doc.set('transports', transports);
  if (hostile && r.chance(0.3)) {
    switch (r.int(9)) {
      case 0:
        doc.delete('default');
        break;
      case 1:
        doc.set('default', r.pick<Json>([[], null, new Obj([['type', 'reject']]), 'reject']));
        break;
      case 2:
        doc.delete('transports').set('docker', docker);
        break;
      case 3:
        doc.set('transports', r.pick<Json>([null, [], new Obj([['docker', null]]), new Obj([['docker', new Obj([['quay.io', null]])]]), new Obj([['docker', new Obj([['quay.io', []]])]])]));
        break;
      case 4:
        doc.entries.push(['default', [new Obj([['type', 'reject']])]]);
        break;
      case 5:
        mutateObject(r, doc);
        break;
      case 6:
        docker.set('quay.io', new Obj([['type', 'reject']]));
        break;
      case 7:
        docker.set('ghcr.io', [r.pick<Json>([null, 'reject', 1, [new Obj([['type', 'reject']])]])]);
        break;
      default:
        doc.set('transports', new Obj([['docker', docker], ['docker', new Obj()]]));
    }
  }
  let text = serialise(doc) + '\n';
  if (hostile && r.chance(0.2)) text = breakJson(r, text);
  return { text, scopes };
}

/** Text-level damage: what an editor or a copy from a README leaves behind. */
function breakJson(r: Rng, text: string): string {
  switch (r.int(10)) {
    case 0:
      return text.slice(0, r.int(text.length));
    case 1:
      return text.replace(/\n\}\n$/, ',\n}\n');
    case 2:
      return `// the policy\n${text}`;
    case 3:
      return text.replace('"default"', '"default" // deny\n');
    case 4:
      return `${text}{}`;
    case 5:
      return `\ufeff${text}`;
    case 6:
      return text.replace(/"type"/, "'type'");
    case 7: {
      const depth = r.pick([200, 9999, 10000, 10001, 100_000]);
      return text.replace('"default": [', `"deep": ${'['.repeat(depth)}${']'.repeat(depth)}, "default": [`);
    }
    case 8:
      return text.replace(/: "([^"]*)"/, (_m, s: string) => `: "${s}\t"`);
    default:
      return text.replace(/"reject"/, '"rej\\ect"');
  }
}

export interface RegistriesFile {
  name: string;
  /** Text of the file, or 'directory' for a directory of that name. */
  content: string | 'directory';
}

const ATTACH_VALUES = ['true', 'false', 'yes', 'no', 'on', 'off', 'True', 'FALSE', '"true"', "'false'", '"yes"', '1', '0', 'y', 'n', '~', 'null', '[]', '{}', 'maybe', 'tru'];
const LOOKASIDE = ['https://sigs.example.com/sigstore', 'file:///var/lib/containers/sigstore', 'http://127.0.0.1:5003', 'https://sigs.example.com/sigstore/', 'https://sigs.example.com/s?x=1', 'relative/path'];
const BAD_LOOKASIDE = ['http://[::1/sigs', 'https://sigs.example.com/%zz', 'http://host:99a/', ':nothing', 'https://sigs.example.com/%2'];

function namespace(r: Rng, hostile: boolean): string {
  const lines: string[] = [];
  if (r.chance(0.7)) lines.push(`use-sigstore-attachments: ${hostile ? r.pick(ATTACH_VALUES) : r.pick(ATTACH_VALUES.slice(0, 2))}`);
  if (r.chance(0.4)) lines.push(`lookaside: ${hostile && r.chance(0.4) ? r.pick(BAD_LOOKASIDE) : r.pick(LOOKASIDE)}`);
  if (r.chance(0.15)) lines.push(`sigstore: ${r.pick(LOOKASIDE)}`);
  if (hostile && r.chance(0.15)) lines.push(r.pick(['lookaside-staging: file:///tmp/x', 'unknown-setting: 1', 'lookaside: [a, b]', 'lookaside: 5', 'lookaside: {a: b}']));
  return lines.length ? lines.map((l) => `    ${l}`).join('\n') : '    {}';
}

export function generateRegistriesD(r: Rng, scopes: string[]): RegistriesFile[] {
  const hostile = r.chance(0.4);
  const files: RegistriesFile[] = [];
  const used = new Set<string>();
  for (let k = 0, n = r.int(4); k < n; k++) {
    const parts: string[] = [];
    if (r.chance(0.3) && !(used.has('default-docker') && !hostile)) {
      used.add('default-docker');
      parts.push(`default-docker:\n${namespace(r, hostile)}`);
    }
    const nss: string[] = [];
    for (let j = 0, m = 1 + r.int(3); j < m; j++) {
      let ns = r.chance(0.6) && scopes.length ? r.pick(scopes) : dockerScope(r, false);
      if (ns === '' || ns.startsWith('*')) ns = r.pick(HOSTS);
      if (used.has(ns) && !(hostile && r.chance(0.3))) continue;
      used.add(ns);
      nss.push(`  ${ns.includes(':') || ns.includes('*') || r.chance(0.2) ? JSON.stringify(ns) : ns}:\n${namespace(r, hostile)}`);
    }
    if (nss.length) parts.push(`docker:\n${nss.join('\n')}`);
    let text = parts.join('\n') + '\n';
    if (hostile && r.chance(0.25)) {
      text = r.pick([
        `${text}docker: {}\n`,
        text.replace(/\n {4}/, '\n\t'),
        `docker: []\n`,
        `- a\n- b\n`,
        `just a string\n`,
        `docker:\n  "quay.io": yes please\n`,
        '',
        `default-docker: &a\n  use-sigstore-attachments: true\ndocker:\n  quay.io: *a\n`,
        aliasBomb(),
        `docker:\n  quay.io:\n    use-sigstore-attachments: "unclosed\n`,
      ]);
    }
    files.push({ name: `${r.pick(['crio-sigpoc', 'default', 'quay', 'zz-extra', 'a'])}-${k}.${hostile && r.chance(0.15) ? 'yml' : 'yaml'}`, content: text });
  }
  if (hostile && r.chance(0.15)) files.push({ name: 'x.yaml', content: 'directory' });
  if (r.chance(0.05)) files.push({ name: 'README', content: 'not read\n' });
  return files;
}

/** A billion-laughs document: small on disk, huge when its aliases are expanded. */
function aliasBomb(): string {
  const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let k = 1; k < 9; k++) {
    const prev = String.fromCharCode(96 + k);
    const cur = String.fromCharCode(97 + k);
    lines.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  lines.push('docker:\n  quay.io:\n    lookaside: *i');
  return lines.join('\n') + '\n';
}

export function generateImages(r: Rng, scopes: string[]): string[] {
  const out: string[] = [];
  for (let k = 0, n = 2 + r.int(4); k < n; k++) {
    const s = scopes.length && r.chance(0.6) ? r.pick(scopes) : undefined;
    if (s && !s.startsWith('*') && s !== '' && !s.includes('://') && /^[a-z0-9.-]+(:[0-9]+)?(\/|$)/.test(s)) {
      const [host, ...rest] = s.replace(/[:@][^/]*$/, (m) => (m.startsWith(':') && !s.includes('/') ? m : '')).split('/');
      out.push(rest.length ? (r.chance(0.5) ? s : image(r, { host, path: `${rest.join('/')}/${r.pick(REPOS)}` })) : image(r, { host }));
    } else if (s?.startsWith('*.')) out.push(image(r, { host: `${r.pick(['a', 'b.c'])}${s.slice(1)}` }));
    else if (r.chance(0.2)) out.push(hostileImage(r));
    else out.push(image(r));
  }
  return out;
}
