// The few HTTP calls setup makes to the cluster it starts: health endpoints, and the node object
// with the admin certificate. No kubectl needed to bring the lab up.
import { promises as fs } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { apiServerUrl, kubePaths } from './layout.js';

export interface HttpAnswer {
  status: number;
  body: string;
}

interface Tls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** Only for a component's own self-signed health endpoint on loopback. */
  insecure?: boolean;
}

export function get(url: string, tls: Tls = {}, timeoutMs = 3_000): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const opts = { timeout: timeoutMs, ...(u.protocol === 'https:' ? { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: !tls.insecure } : {}) };
    const req = (u.protocol === 'https:' ? https : http).get(u, opts, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** A 200 "ok" from a health endpoint; any error is just "not yet". */
export async function healthy(url: string, tls: Tls = {}): Promise<boolean> {
  const r = await get(url, tls).catch(() => undefined);
  return r?.status === 200 && r.body.trim() === 'ok';
}

export function tcpOpen(host: string, port: number, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: timeoutMs });
    const end = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.once('connect', () => end(true));
    s.once('timeout', () => end(false));
    s.once('error', () => end(false));
  });
}

const readOrUndefined = (p: string): Promise<Buffer | undefined> => fs.readFile(p).catch(() => undefined);

export async function clusterCa(stateDir: string): Promise<Buffer | undefined> {
  return readOrUndefined(kubePaths(stateDir).cert('ca'));
}

/** GET on the API server as the lab's admin; undefined when the server does not answer. */
export async function adminGet(stateDir: string, apiPath: string): Promise<HttpAnswer | undefined> {
  const p = kubePaths(stateDir);
  const [ca, cert, key] = await Promise.all([clusterCa(stateDir), readOrUndefined(p.cert('admin')), readOrUndefined(p.key('admin'))]);
  if (!ca || !cert || !key) return undefined;
  return get(`${apiServerUrl}${apiPath}`, { ca, cert, key }).catch(() => undefined);
}
