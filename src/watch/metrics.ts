// The counters CRI-O does not keep: signature refusals by reason, namespace and stage, and the pulls
// it accepted, in Prometheus's text format (prom-client), served on loopback or written for
// node_exporter's textfile collector.
import http from 'node:http';
import { isIP } from 'node:net';
import writeFileAtomic from 'write-file-atomic';
import { Counter, Registry } from 'prom-client';
import { UsageError } from '../core/errors.js';
import type { WatchedEvent } from './format.js';

export class SignatureMetrics {
  readonly registry = new Registry();
  private readonly rejections = new Counter({
    name: 'crio_sigpoc_signature_rejections_total',
    help: "Images CRI-O refused for a signature reason (SignatureValidationFailed), by the library's reason, pod namespace and stage (pull, create).",
    labelNames: ['reason', 'namespace', 'stage'] as const,
    registers: [this.registry],
  });
  private readonly accepted = new Counter({
    name: 'crio_sigpoc_pulls_accepted_total',
    help: 'Pulls CRI-O completed after applying its signature policy, by pod namespace, the policy file CRI-O logged, and verified: whether the scope deciding for the image requires a signature (true, false, unknown).',
    labelNames: ['namespace', 'policy', 'verified'] as const,
    registers: [this.registry],
  });

  count(e: WatchedEvent): void {
    const namespace = e.namespace ?? '';
    if (e.outcome === 'rejected') this.rejections.inc({ reason: e.reasonKind ?? 'other', namespace, stage: e.stage });
    else this.accepted.inc({ namespace, policy: e.policy ?? '', verified: e.verified === undefined ? 'unknown' : String(e.verified) });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

export interface ListenAddress {
  host: string;
  port: number;
}

const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));

/** HOST:PORT or [V6]:PORT; anything but loopback only when allowed, since the counters name images and namespaces. */
export function parseListen(text: string, allowRemote: boolean): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!host || !(port > 0 && port < 65536)) throw new UsageError(`--metrics-listen ${text}: expected HOST:PORT, e.g. 127.0.0.1:9899`);
  if (!isLoopback(host) && !allowRemote) throw new UsageError(`--metrics-listen ${text}: not a loopback address; the metrics name images and namespaces`, 'listen on 127.0.0.1, or add --metrics-allow-remote if the port is protected');
  return { host, port };
}

/** Serves GET /metrics until closed. */
export async function serveMetrics(metrics: SignatureMetrics, at: ListenAddress): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics\n');
      return;
    }
    metrics.text().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${e.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => resolve());
  });
  return server;
}

/** node_exporter's textfile collector reads every *.prom file: each write replaces the file whole. */
export class Textfile {
  private chain: Promise<void> = Promise.resolve();
  constructor(
    private readonly file: string,
    private readonly metrics: SignatureMetrics,
  ) {
    if (!file.endsWith('.prom')) throw new UsageError(`--textfile ${file}: node_exporter reads only files ending in .prom`);
  }

  write(): Promise<void> {
    this.chain = this.chain.then(async () => writeFileAtomic(this.file, await this.metrics.text(), { mode: 0o644 }));
    return this.chain;
  }
}
