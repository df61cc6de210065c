// CRI-O's log, read for signature decisions: every refusal at pull or at container creation, and
// every accepted pull, with the image, the pod and the namespace when CRI-O names them, the reason
// in CRI-O's and the library's words, and the policy file CRI-O applied. The one parser of that
// log: `watch`, its metrics and `status` all read events from here.
//
// What CRI-O v1.36.3 logs at debug level (the tool's drop-in sets it), each line carrying the
// gRPC request's id=… and name=/runtime.v1.…:
//   Request: *v1.PullImageRequest: image:{image:"IMG" …} sandbox_config:{metadata:{name:"POD" uid:… namespace:"NS" …}
//   Using pull policy path for image IMG: "FILE"                    (server/image_pull.go)
//   Response error: SignatureValidationFailed: … Source image rejected: <library's words>; artifact err: …
//   Response: *v1.PullImageResponse: image_ref:"ID"
//   Request: *v1.CreateContainerRequest: … config:{metadata:{name:"CTR"} image:{image:"IMG" …} sandbox_config:{…}
//   Response error: checking signature of "IMG": verifying signatures: SignatureValidationFailed: <library's words>
// At creation CRI-O names no policy file (server/container_create.go verifyImageSignature).

export const SIGNATURE_REASON = 'SignatureValidationFailed';

/** One line of CRI-O's log: logrus's text format, from the log file or from the journal's MESSAGE. */
export interface LogRecord {
  /** RFC 3339 time, as CRI-O wrote it (or the journal's, when the line has none). */
  time?: string;
  level?: string;
  msg: string;
  /** The gRPC request the line belongs to. */
  id?: string;
  /** The gRPC method, e.g. /runtime.v1.ImageService/PullImage. */
  rpc?: string;
}

export type Stage = 'pull' | 'create';

/** A short, bounded name for a reason: what a metric label and a count by reason need. */
export type ReasonKind = 'no-signature' | 'invalid-signature' | 'identity-not-accepted' | 'rejected-by-policy' | 'other';

export interface SignatureEvent {
  time?: string;
  outcome: 'rejected' | 'accepted';
  stage: Stage;
  image?: string;
  namespace?: string;
  pod?: string;
  /** The container's name, for a refusal at creation. */
  container?: string;
  /** "SignatureValidationFailed: …" with the library's words (refusals only). */
  reason?: string;
  reasonKind?: ReasonKind;
  /** The policy file CRI-O logged for the pull ("" is the library's default); CRI-O logs none at creation. */
  policy?: string;
  requestId?: string;
}

/** logrus's text format: key=value pairs, a value quoted (with backslash escapes) when it needs to be. */
export function logfmtFields(line: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /([\w.-]+)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/g;
  for (const m of line.matchAll(re)) out.set(m[1], m[2] !== undefined ? unescape(m[2]) : m[3]);
  return out;
}
const unescape = (s: string): string => s.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));

/** A line as CRI-O writes it to its log file (logrus text: time="…" level=… msg="…" … id=… name=…). */
export function parseLogLine(line: string): LogRecord | undefined {
  const f = logfmtFields(line);
  const msg = f.get('msg');
  if (msg === undefined) return undefined;
  return { time: f.get('time'), level: f.get('level'), msg, id: f.get('id'), rpc: f.get('name') };
}

/**
 * A line of `journalctl -o json`: CRI-O's own text line is the MESSAGE (systemd keeps its stderr),
 * the time falls back to __REALTIME_TIMESTAMP (microseconds since the epoch). A MESSAGE that is not
 * in logrus's format (log_to_journald = true) is taken as the bare message.
 */
export function parseJournalLine(line: string): LogRecord | undefined {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (!entry || typeof entry !== 'object') return undefined;
  // journald gives a MESSAGE that is not valid UTF-8 as an array of bytes.
  const raw = entry.MESSAGE;
  const message = typeof raw === 'string' ? raw : Array.isArray(raw) ? Buffer.from(raw as number[]).toString('utf8') : undefined;
  if (message === undefined) return undefined;
  const rec = parseLogLine(message) ?? { msg: message };
  if (!rec.time && typeof entry.__REALTIME_TIMESTAMP === 'string') {
    const micros = Number(entry.__REALTIME_TIMESTAMP);
    if (Number.isFinite(micros)) rec.time = new Date(micros / 1000).toISOString();
  }
  return rec;
}

/** "SignatureValidationFailed: Source image rejected: <the library's words>", without the artifact-pull noise. */
export function signatureReason(text: string): string {
  const from = text.slice(text.indexOf(SIGNATURE_REASON)).replace(/\\"/g, '"');
  const body = from.replace(/; artifact err: .*$/, '').replace(/"\s*(image=.*)?$/, '');
  const m = /Source image rejected: (.*)$/.exec(body);
  return m ? `${SIGNATURE_REASON}: Source image rejected: ${m[1].trim()}` : body.trim();
}

/** The library's reasons, by the words containers/image uses for them (signature/policy_eval*.go, prsigstore). */
export function reasonKind(reason: string): ReasonKind {
  if (/A signature was required, but no signature exists/.test(reason)) return 'no-signature';
  // pki: a leaf that does not chain to the policy's roots (the library spells it "veryfing");
  // GPG: a simple signature by a key the keyring does not hold.
  if (/cryptographic signature verification failed|invalid signature|signature verification failed|leaf certificate failed|Key not found for key ID/i.test(reason)) return 'invalid-signature';
  // pki: a certificate of the right CA whose subject the policy does not require.
  if (/Signature for identity .* is not accepted|Required email ".*" not found|Unexpected subject hostname/.test(reason)) return 'identity-not-accepted';
  if (/is rejected by policy/.test(reason)) return 'rejected-by-policy';
  return 'other';
}

interface Pending {
  stage: Stage;
  image?: string;
  namespace?: string;
  pod?: string;
  container?: string;
  policy?: string;
}

const PULL = /ImageService\/PullImage$/;
const CREATE = /RuntimeService\/CreateContainer$/;
/** Requests whose response the log never showed (CRI-O restarted, lines lost) are forgotten past this many. */
const MAX_PENDING = 10_000;

const POLICY_PATH = /^Using pull policy path for image (\S+): "([^"]*)"/;

const first = (text: string, re: RegExp): string | undefined => re.exec(text)?.[1];

function requestFacts(msg: string, stage: Stage): Pending {
  // Annotations (kubectl's last-applied-configuration) repeat names inside escaped JSON; the
  // protobuf text fields below are the request's own.
  const sandbox = /sandbox_config:\{metadata:\{([^}]*)\}/.exec(msg)?.[1] ?? '';
  return {
    stage,
    image: first(msg, /image:\{image:"([^"]+)"/),
    pod: first(sandbox, /(?:^|\s)name:"([^"]*)"/),
    namespace: first(sandbox, /(?:^|\s)namespace:"([^"]*)"/),
    container: stage === 'create' ? first(msg, /config:\{metadata:\{name:"([^"]*)"/) : undefined,
  };
}

/**
 * Follows the requests of CRI-O's log and yields an event when a pull or a creation is decided.
 * Feed it every record in log order; lines of other requests and of the library are ignored.
 */
export class SignatureEvents {
  private readonly pending = new Map<string, Pending>();

  feed(rec: LogRecord): SignatureEvent | undefined {
    const { id, rpc, msg } = rec;
    if (!id || !rpc) return undefined;
    const stage: Stage | undefined = PULL.test(rpc) ? 'pull' : CREATE.test(rpc) ? 'create' : undefined;
    if (!stage) return undefined;
    if (msg.startsWith('Request: ')) {
      this.remember(id, requestFacts(msg, stage));
      return undefined;
    }
    const p = this.pending.get(id) ?? { stage };
    const policy = POLICY_PATH.exec(msg);
    if (policy) {
      p.image ??= policy[1];
      p.policy = policy[2];
      this.remember(id, p);
      return undefined;
    }
    // Seen when the Request line was not (watch started mid-request).
    const pulling = /^Pulling image: (\S+)/.exec(msg);
    if (pulling) {
      p.image ??= pulling[1];
      this.remember(id, p);
      return undefined;
    }
    if (msg.startsWith('Response error: ')) {
      this.pending.delete(id);
      if (!msg.includes(SIGNATURE_REASON)) return undefined;
      const reason = signatureReason(msg);
      const image = p.image ?? first(msg, /checking signature of "([^"]+)"/);
      return clean({ time: rec.time, outcome: 'rejected', stage, image, namespace: p.namespace, pod: p.pod, container: p.container, reason, reasonKind: reasonKind(reason), policy: p.policy, requestId: id });
    }
    if (msg.startsWith('Response: ')) {
      this.pending.delete(id);
      if (stage !== 'pull') return undefined;
      return clean({ time: rec.time, outcome: 'accepted', stage, image: p.image, namespace: p.namespace, pod: p.pod, policy: p.policy, requestId: id });
    }
    return undefined;
  }

  private remember(id: string, p: Pending): void {
    this.pending.delete(id);
    this.pending.set(id, p);
    if (this.pending.size > MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
  }
}

const clean = (e: SignatureEvent): SignatureEvent => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)) as unknown as SignatureEvent;

export type LogFormat = 'file' | 'journal-json';

/** Every event in a stretch of log text, in order. */
export function eventsFromText(text: string, format: LogFormat = 'file'): SignatureEvent[] {
  const parse = format === 'file' ? parseLogLine : parseJournalLine;
  const reader = new SignatureEvents();
  const out: SignatureEvent[] = [];
  for (const line of text.split('\n')) {
    const rec = parse(line);
    const e = rec && reader.feed(rec);
    if (e) out.push(e);
  }
  return out;
}

/** CRI-O logs (at debug level) the policy file it applied to each pull: every one for image, in order. */
export function policyPathsFromLog(log: string, image: string): string[] {
  const found: string[] = [];
  for (const line of log.split('\n')) {
    const m = POLICY_PATH.exec(parseLogLine(line)?.msg ?? '');
    if (m && m[1] === image) found.push(m[2]);
  }
  return found;
}
