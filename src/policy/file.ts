// Reading a user's policy.json: a parse error names file, line and column; a structure that the
// containers library would refuse is named too. Nothing is installed from a file that fails here.
import { z } from 'zod';
import { UsageError } from '../core/errors.js';

// Field names and rules as signature/policy_config.go and policy_config_sigstore.go enforce them:
// unknown keys, a missing key source or two of them make the library refuse the whole policy.
const identity = z.discriminatedUnion('type', [
  z.object({ type: z.literal('matchExact') }).strict(),
  z.object({ type: z.literal('matchRepoDigestOrExact') }).strict(),
  z.object({ type: z.literal('matchRepository') }).strict(),
  z.object({ type: z.literal('exactReference'), dockerReference: z.string() }).strict(),
  z.object({ type: z.literal('exactRepository'), dockerRepository: z.string() }).strict(),
  z.object({ type: z.literal('remapIdentity'), prefix: z.string(), signedPrefix: z.string() }).strict(),
]);

/** Reports `message` unless exactly one (or, with atMostOne, at most one) of `keys` is present. */
const oneOf =
  (keys: string[], message: string, atMostOne = false) =>
  (value: Record<string, unknown>, ctx: z.RefinementCtx): void => {
    const n = keys.filter((k) => value[k] !== undefined).length;
    if (n > 1 || (n === 0 && !atMostOne)) ctx.addIssue({ code: 'custom', message, params: { finding: 'key-sources' } });
  };

const sigstoreKeys = ['keyPath', 'keyPaths', 'keyData', 'keyDatas', 'fulcio', 'pki'];
const rekorKeys = ['rekorPublicKeyPath', 'rekorPublicKeyPaths', 'rekorPublicKeyData', 'rekorPublicKeyDatas'];

export const requirementSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('reject') }).strict(),
  z.object({ type: z.literal('insecureAcceptAnything') }).strict(),
  z
    .object({
      type: z.literal('signedBy'),
      keyType: z.enum(['GPGKeys', 'signedByGPGKeys']),
      keyPath: z.string().optional(),
      keyPaths: z.array(z.string()).min(1).optional(),
      keyData: z.string().optional(),
      signedIdentity: identity.optional(),
    })
    .strict()
    .superRefine(oneOf(['keyPath', 'keyPaths', 'keyData'], 'exactly one of keyPath, keyPaths and keyData must be specified')),
  z.object({ type: z.literal('signedBaseLayer'), baseLayerIdentity: identity }).strict(),
  z
    .object({
      type: z.literal('sigstoreSigned'),
      keyPath: z.string().optional(),
      keyPaths: z.array(z.string()).min(1).optional(),
      keyData: z.string().optional(),
      keyDatas: z.array(z.string()).min(1).optional(),
      fulcio: z.record(z.string(), z.unknown()).optional(),
      pki: z.record(z.string(), z.unknown()).optional(),
      rekorPublicKeyPath: z.string().optional(),
      rekorPublicKeyPaths: z.array(z.string()).min(1).optional(),
      rekorPublicKeyData: z.string().optional(),
      rekorPublicKeyDatas: z.array(z.string()).min(1).optional(),
      signedIdentity: identity.optional(),
    })
    .strict()
    .superRefine(oneOf(sigstoreKeys, `exactly one of ${sigstoreKeys.join(', ')} must be specified`))
    .superRefine(oneOf(rekorKeys, `at most one of ${rekorKeys.join(', ')} can be used`, true))
    .superRefine((r, ctx) => {
      const rekor = rekorKeys.some((k) => r[k as keyof typeof r] !== undefined);
      if (r.fulcio && !rekor) ctx.addIssue({ code: 'custom', message: 'fulcio needs a rekorPublicKey* as well', params: { finding: 'key-sources' } });
      if (r.pki && rekor) ctx.addIssue({ code: 'custom', message: 'rekorPublicKey* is not supported with pki', params: { finding: 'key-sources' } });
    }),
]);

export type PolicyRequirement = z.infer<typeof requirementSchema>;

export const policySchema = z
  .object({
    default: z.array(requirementSchema).min(1),
    transports: z.record(z.string(), z.record(z.string(), z.array(requirementSchema).min(1))).optional(),
  })
  .strict();

export type PolicyDocument = z.infer<typeof policySchema>;

/** Parses and validates; throws UsageError (exit 2) with file:line:column or the JSON path. */
export async function parsePolicyText(text: string, file: string): Promise<PolicyDocument> {
  const { parse, printParseErrorCode } = await import('jsonc-parser');
  const errors: import('jsonc-parser').ParseError[] = [];
  const doc: unknown = parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  if (errors.length) {
    const first = errors[0];
    const { line, column } = lineColumn(text, first.offset);
    throw new UsageError(`${file}:${line}:${column}: not valid JSON (${printParseErrorCode(first.error)})`, `fix ${file} at line ${line}, column ${column}, and run the command again`);
  }
  const result = policySchema.safeParse(doc);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `  ${['$', ...i.path].join('.')}: ${i.message}`).join('\n');
    throw new UsageError(`${file}: not a valid containers-policy.json(5) document:\n${issues}`, `fix ${file} and run the command again`);
  }
  return result.data;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}
