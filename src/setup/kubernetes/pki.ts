// The cluster's certificates, made by openssl (argv arrays, no config file): one CA, the API
// server's serving certificate for loopback, a client certificate per user, and the service-account
// signing key. Kept in <state>/kubernetes/pki (0700); clean-all removes them.
import { promises as fs } from 'node:fs';
import type { Context } from '../../core/context.js';
import { must } from '../../core/command.js';
import type { Step } from '../../core/step.js';
import { done, todo } from '../../core/step.js';
import { KUBERNETES_SERVICE_IP, kubePaths, LOOPBACK, nodeName } from './layout.js';
import { fileExists } from '../install-file.js';

export interface Leaf {
  name: string;
  subject: string;
  usage: 'serverAuth' | 'clientAuth';
  san?: string[];
}

export const CA = 'ca';

/** Who is who: the API server's RBAC and Node authorizer read the subject (O = group, CN = user). */
export function leafCertificates(node: string): Leaf[] {
  const svc = ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];
  return [
    { name: 'apiserver', subject: '/CN=kube-apiserver', usage: 'serverAuth', san: [`IP:${LOOPBACK}`, `IP:${KUBERNETES_SERVICE_IP}`, 'DNS:localhost', ...svc.map((d) => `DNS:${d}`)] },
    { name: 'admin', subject: '/O=system:masters/CN=crio-sigpoc-admin', usage: 'clientAuth' },
    { name: 'scheduler', subject: '/CN=system:kube-scheduler', usage: 'clientAuth' },
    // The node's name is in the file name: a renamed host gets a certificate of its own.
    { name: `kubelet-${node}`, subject: `/O=system:nodes/CN=system:node:${node}`, usage: 'clientAuth' },
    { name: 'apiserver-kubelet-client', subject: '/CN=kube-apiserver-kubelet-client', usage: 'clientAuth' },
  ];
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function caArgs(ctx: Context): string[] {
  const p = kubePaths(ctx.stateDir);
  return ['req', '-x509', ...EC_KEY, '-keyout', p.key(CA), '-out', p.cert(CA), '-days', '3650', '-subj', '/CN=crio-sigpoc-kubernetes-ca'];
}

/** OpenSSL 3's `req -CA` signs in one call; -addext replaces the CA extensions of the default config. */
function leafArgs(ctx: Context, leaf: Leaf): string[] {
  const p = kubePaths(ctx.stateDir);
  return [
    'req', '-x509', ...EC_KEY,
    '-keyout', p.key(leaf.name), '-out', p.cert(leaf.name), '-days', '825', '-subj', leaf.subject,
    '-CA', p.cert(CA), '-CAkey', p.key(CA),
    '-addext', 'basicConstraints=critical,CA:FALSE',
    '-addext', 'keyUsage=critical,digitalSignature',
    '-addext', `extendedKeyUsage=${leaf.usage}`,
    ...(leaf.san ? ['-addext', `subjectAltName=${leaf.san.join(',')}`] : []),
  ];
}

/** Every file the cluster needs from here; the step is done when all exist. */
function pkiFiles(ctx: Context): string[] {
  const p = kubePaths(ctx.stateDir);
  const names = [CA, ...leafCertificates(nodeName()).map((l) => l.name)];
  return [...names.flatMap((n) => [p.cert(n), p.key(n)]), p.serviceAccountKey, p.serviceAccountPub];
}

const openssl = (ctx: Context, args: string[]) => must(ctx.runner, { file: 'openssl', args, timeoutMs: 60_000 });

export function kubernetesPkiStep(): Step {
  return {
    id: 'kubernetes-pki',
    title: 'Kubernetes certificates and service-account key (openssl, <state>/kubernetes/pki)',
    async check(ctx) {
      const missing: string[] = [];
      for (const f of pkiFiles(ctx)) if (!(await fileExists(f))) missing.push(f);
      return missing.length ? todo(`missing ${missing.join(', ')}`) : done();
    },
    async apply(ctx) {
      const p = kubePaths(ctx.stateDir);
      if (!ctx.opts.dryRun) await fs.mkdir(p.pki, { recursive: true, mode: 0o700 });
      // A new CA invalidates every certificate signed by the old one: then all are made again.
      const newCa = !(await fileExists(p.cert(CA))) || !(await fileExists(p.key(CA)));
      if (newCa) await openssl(ctx, caArgs(ctx));
      for (const leaf of leafCertificates(nodeName())) {
        if (!newCa && (await fileExists(p.cert(leaf.name))) && (await fileExists(p.key(leaf.name)))) continue;
        await openssl(ctx, leafArgs(ctx, leaf));
      }
      if (!(await fileExists(p.serviceAccountKey))) await openssl(ctx, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p.serviceAccountKey]);
      if (!(await fileExists(p.serviceAccountPub))) await openssl(ctx, ['pkey', '-in', p.serviceAccountKey, '-pubout', '-out', p.serviceAccountPub]);
    },
  };
}
