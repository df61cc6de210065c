// The policy `verify` and `audit` ask CRI-O about: the installed one, a candidate file, or either
// with the user's keys trusted for the repositories asked about. It is checked the way the
// library checks it before it goes anywhere near CRI-O: a policy the library refuses is bad input.
import path from 'node:path';
import type { Context } from '../../core/context.js';
import { EnvironmentError, UsageError } from '../../core/errors.js';
import { readCrioConfig } from '../../crio/config.js';
import { jsonPath } from '../../policy/finding.js';
import { byteLineColumn } from '../../policy/go-json.js';
import { decodePolicy } from '../../policy/library-policy.js';
import { readPolicyBytes } from '../../policy/read-policy.js';
import type { PolicyDocument } from '../../policy/file.js';
import { policyText } from '../../policy/render.js';
import { normaliseImage } from '../../policy/scope.js';

export interface Candidate {
  /** Where the policy came from, as the user named it. */
  source: string;
  /** The bytes that go into the scratch namespace policy. */
  text: string;
  /** The policy as the library reads it, for the scope lookup of each row. */
  doc: PolicyDocument;
}

/** A public key a user passes with --key: a regular file holding a PEM public key, nothing else. */
async function readKey(file: string): Promise<string> {
  const abs = path.resolve(file);
  const bytes = await readPolicyBytes(abs, 64 << 10).catch((e: Error) => {
    throw new UsageError(`cannot read the key ${abs}: ${e.message}`, 'pass a cosign public key (cosign.pub) to --key');
  });
  const text = bytes.toString('utf8');
  if (!/^-----BEGIN PUBLIC KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END PUBLIC KEY-----\s*$/.test(text)) throw new UsageError(`${abs} is not a PEM public key (-----BEGIN PUBLIC KEY-----)`, 'pass the public half of the key pair, e.g. cosign.pub, to --key');
  return text;
}

function decode(bytes: Buffer, file: string): PolicyDocument {
  const d = decodePolicy(bytes);
  if (!d.ok) {
    const { line, column } = byteLineColumn(bytes, d.refusal.offset);
    throw new UsageError(`${file}:${line}:${column}: the library refuses this policy at ${jsonPath(d.refusal.segs)}: ${d.refusal.message}`, `crio-sigpoc policy lint ${file}`);
  }
  return { default: d.policy.default, transports: d.policy.transports } as unknown as PolicyDocument;
}

/**
 * --key FILE…: each image's repository requires a sigstore signature by any of the keys
 * (keyData / keyDatas inline, so CRI-O never reads a file the user may remove), identity
 * matchRepository because cosign signs the repository only. Other scopes stay as they were.
 */
function trustKeys(doc: PolicyDocument, keys: string[], images: string[]): PolicyDocument {
  const data = keys.map((k) => Buffer.from(k).toString('base64'));
  const requirement = { type: 'sigstoreSigned', ...(data.length === 1 ? { keyData: data[0] } : { keyDatas: data }), signedIdentity: { type: 'matchRepository' } };
  const docker: Record<string, unknown> = { ...(doc.transports?.docker ?? {}) };
  for (const image of images) docker[normaliseImage(image).name] = [requirement];
  return { ...doc, transports: { ...(doc.transports ?? {}), docker } } as PolicyDocument;
}

/**
 * undefined: no --policy and no --key, so CRI-O is asked with the policy it enforces now.
 * Otherwise the candidate, validated as the library would.
 */
export async function candidatePolicy(ctx: Context, opts: { policy?: string; keys?: string[]; images: string[] }): Promise<Candidate | undefined> {
  if (!opts.policy && !opts.keys?.length) return undefined;
  let source: string;
  let bytes: Buffer;
  if (opts.policy) {
    source = path.resolve(opts.policy);
    bytes = await readPolicyBytes(source).catch((e: Error) => {
      throw new UsageError(`cannot read the policy ${source}: ${e.message}`, 'pass an existing policy.json to --policy');
    });
  } else {
    source = (await readCrioConfig(ctx.opts.root)).effectivePolicyPath;
    bytes = await readPolicyBytes(ctx.sys(source)).catch((e: Error) => {
      throw new EnvironmentError(`cannot read the installed policy ${source}: ${e.message}`, 'crio-sigpoc install-policy, or pass --policy FILE');
    });
  }
  let doc = decode(bytes, source);
  let text = bytes.toString('utf8');
  if (opts.keys?.length) {
    const keys = await Promise.all(opts.keys.map(readKey));
    doc = trustKeys(doc, keys, opts.images);
    text = policyText(doc);
    source = `${source} + ${opts.keys.map((k) => path.resolve(k)).join(', ')} for ${[...new Set(opts.images.map((i) => normaliseImage(i).name))].join(', ')}`;
    decode(Buffer.from(text), 'the candidate policy with --key');
  }
  return { source, text, doc };
}
