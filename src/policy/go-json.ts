// JSON read the way Go's encoding/json reads it, which is how containers/image reads policy.json:
// the same syntax errors in the same words at the same byte, the same nesting limit (10000),
// and a tree that keeps key order, duplicate keys and byte offsets for what the decoder checks
// next. Iterative, so a document nested 100k levels deep is refused in linear time and constant
// stack.

/** encoding/json's maxNestingDepth. */
export const GO_JSON_MAX_DEPTH = 10000;

export type GoJson =
  | { kind: 'object'; offset: number; entries: { key: string; keyOffset: number; value: GoJson }[] }
  | { kind: 'array'; offset: number; items: GoJson[] }
  | { kind: 'string'; offset: number; value: string }
  | { kind: 'number'; offset: number; text: string }
  | { kind: 'bool'; offset: number; value: boolean }
  | { kind: 'null'; offset: number };

export interface GoJsonError {
  /** encoding/json's SyntaxError text, e.g. "invalid character '}' looking for beginning of object key string". */
  message: string;
  /** Byte offset of the offending byte (SyntaxError.Offset - 1), or the length at end of input. */
  offset: number;
}

/** strconv.Quote-like rendering of one byte, as encoding/json's quoteChar does. */
function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return `'"'`;
  const s = String.fromCharCode(c);
  if (c >= 0x20 && c < 0x7f) return `'${s}'`;
  const named: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r' };
  if (named[c]) return `'${named[c]}'`;
  if (c < 0x20 || c === 0x7f) return `'\\x${c.toString(16).padStart(2, '0')}'`;
  // A byte ≥ 0x80 becomes the rune U+0080..U+00FF: printable ones print as themselves.
  return c >= 0xa1 && c !== 0xad ? `'${s}'` : `'\\u${c.toString(16).padStart(4, '0')}'`;
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

class Fail extends Error {
  constructor(readonly detail: GoJsonError) {
    super(detail.message);
  }
}

type Frame = { node: Extract<GoJson, { kind: 'object' | 'array' }>; key?: { key: string; keyOffset: number } };

/** Parses like json.Unmarshal's validity check, then builds the tree. */
export function parseGoJson(input: Buffer | string): { value: GoJson } | { error: GoJsonError } {
  const b = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  let i = 0;
  const fail = (context: string): never => {
    if (i >= b.length) throw new Fail({ message: 'unexpected end of JSON input', offset: b.length });
    throw new Fail({ message: `invalid character ${quoteChar(b[i])} ${context}`.trimEnd(), offset: i });
  };
  // Go's scanner ends the input by feeding it a space: inside a literal or a number that needs
  // more, the error names that space; elsewhere it is "unexpected end of JSON input".
  const failInToken = (context: string): never => {
    if (i >= b.length) throw new Fail({ message: `invalid character ' ' ${context}`, offset: b.length });
    return fail(context);
  };
  const skip = (): void => {
    while (i < b.length && isSpace(b[i])) i++;
  };
  const literal = (word: string, name: string): void => {
    for (let k = 1; k < word.length; k++) {
      i++;
      if (b[i] !== word.charCodeAt(k)) failInToken(`in literal ${name} (expecting '${word[k]}')`);
    }
    i++;
  };
  const string = (): string => {
    const start = i;
    i++;
    let hasEscape = false;
    for (;;) {
      if (i >= b.length) fail('in string literal');
      const c = b[i];
      if (c === 0x22) break;
      if (c < 0x20) fail('in string literal');
      if (c === 0x5c) {
        hasEscape = true;
        i++;
        if (i >= b.length) fail('in string escape code');
        const e = b[i];
        if (e === 0x75) {
          for (let k = 0; k < 4; k++) {
            i++;
            if (i >= b.length || !isHex(b[i])) fail('in \\u hexadecimal character escape');
          }
        } else if (!'"\\/bfnrt'.includes(String.fromCharCode(e))) fail('in string escape code');
      }
      i++;
    }
    i++;
    const raw = b.subarray(start, i).toString('utf8');
    return hasEscape ? (JSON.parse(raw) as string) : raw.slice(1, -1);
  };
  const number = (): string => {
    const start = i;
    if (b[i] === 0x2d) {
      i++;
      if (i >= b.length || !isDigit(b[i])) failInToken('in numeric literal');
    }
    if (b[i] === 0x30) i++;
    else while (i < b.length && isDigit(b[i])) i++;
    if (b[i] === 0x2e) {
      i++;
      if (i >= b.length || !isDigit(b[i])) failInToken('after decimal point in numeric literal');
      while (i < b.length && isDigit(b[i])) i++;
    }
    if (b[i] === 0x65 || b[i] === 0x45) {
      i++;
      if (b[i] === 0x2b || b[i] === 0x2d) i++;
      if (i >= b.length || !isDigit(b[i])) failInToken('in exponent of numeric literal');
      while (i < b.length && isDigit(b[i])) i++;
    }
    return b.subarray(start, i).toString('latin1');
  };

  /** An object key and its colon. */
  const key = (): { key: string; keyOffset: number } => {
    if (i >= b.length) fail('');
    if (b[i] !== 0x22) fail('looking for beginning of object key string');
    const keyOffset = i;
    const k = string();
    skip();
    if (b[i] !== 0x3a) fail(i >= b.length ? '' : 'after object key');
    i++;
    return { key: k, keyOffset };
  };

  const stack: Frame[] = [];
  let root: GoJson | undefined;
  const attach = (v: GoJson): void => {
    const top = stack.at(-1);
    if (!top) root = v;
    else if (top.node.kind === 'array') top.node.items.push(v);
    else top.node.entries.push({ ...top.key!, value: v });
  };
  try {
    // Each turn reads one value (or closes containers), then what may follow it.
    for (;;) {
      skip();
      if (i >= b.length) fail('');
      const c = b[i];
      const at = i;
      let opened: Frame | undefined;
      if (c === 0x7b || c === 0x5b) {
        if (stack.length >= GO_JSON_MAX_DEPTH) fail('exceeded max depth');
        const node: Frame['node'] = c === 0x7b ? { kind: 'object', offset: at, entries: [] } : { kind: 'array', offset: at, items: [] };
        attach(node);
        opened = { node };
        stack.push(opened);
        i++;
        skip();
        if (c === 0x7b) {
          if (b[i] === 0x7d) {
            i++;
            stack.pop();
          } else {
            opened.key = key();
            continue;
          }
        } else if (b[i] === 0x5d) {
          i++;
          stack.pop();
        } else continue;
      } else if (c === 0x22) attach({ kind: 'string', offset: at, value: string() });
      else if (c === 0x2d || isDigit(c)) attach({ kind: 'number', offset: at, text: number() });
      else if (c === 0x74) {
        literal('true', 'true');
        attach({ kind: 'bool', offset: at, value: true });
      } else if (c === 0x66) {
        literal('false', 'false');
        attach({ kind: 'bool', offset: at, value: false });
      } else if (c === 0x6e) {
        literal('null', 'null');
        attach({ kind: 'null', offset: at });
      } else fail('looking for beginning of value');
      // After a value: a separator, a closing bracket, or the end of the document.
      for (;;) {
        skip();
        const top = stack.at(-1);
        if (!top) {
          if (i < b.length) fail('after top-level value');
          return { value: root! };
        }
        if (i >= b.length) fail('');
        if (top.node.kind === 'object') {
          if (b[i] === 0x2c) {
            i++;
            skip();
            top.key = key();
            break;
          }
          if (b[i] === 0x7d) {
            i++;
            stack.pop();
            continue;
          }
          fail('after object key:value pair');
        } else {
          if (b[i] === 0x2c) {
            i++;
            break;
          }
          if (b[i] === 0x5d) {
            i++;
            stack.pop();
            continue;
          }
          fail('after array element');
        }
      }
    }
  } catch (e) {
    if (e instanceof Fail) return { error: e.detail };
    throw e;
  }
}

/** Line and column (1-based, in bytes of the line as characters) of a byte offset. */
export function byteLineColumn(input: Buffer | string, offset: number): { line: number; column: number } {
  const b = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  let line = 1;
  let start = 0;
  for (let k = 0; k < offset && k < b.length; k++) {
    if (b[k] === 0x0a) {
      line++;
      start = k + 1;
    }
  }
  return { line, column: b.subarray(start, Math.min(offset, b.length)).toString('utf8').length + 1 };
}
