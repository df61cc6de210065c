// One verification case's outcome, shared by `test` (crictl), `test-pods` (kubelet) and the reports.
import { EXIT } from '../core/errors.js';

export type Expectation = 'accepted' | 'rejected';
/** 'error': the runtime never decided (pull or setup failure, timeout): never a rejection. */
export type Outcome = Expectation | 'error' | 'not-run';

export interface Verdict {
  /** The case name, e.g. 'signed' or 'unsigned'. */
  name: string;
  image: string;
  expected: Expectation;
  actual: Outcome;
  /** The reason as CRI-O or kubelet gave it (or why the case did not run). */
  reason: string;
  /** The policy file CRI-O used, when the tool can know it (a local node). */
  policyPath?: string;
  node?: string;
  durationMs: number;
  pass: boolean;
}

/** A verdict passes only when the runtime decided exactly as expected. */
export const verdict = (v: Omit<Verdict, 'pass'>): Verdict => ({ ...v, pass: v.actual === v.expected });

export interface VerdictSummary {
  total: number;
  passed: number;
  failed: number;
  errors: number;
  notRun: number;
}

export function summarize(verdicts: Verdict[]): VerdictSummary {
  return {
    total: verdicts.length,
    passed: verdicts.filter((v) => v.pass).length,
    failed: verdicts.filter((v) => !v.pass && (v.actual === 'accepted' || v.actual === 'rejected')).length,
    errors: verdicts.filter((v) => v.actual === 'error').length,
    notRun: verdicts.filter((v) => v.actual === 'not-run').length,
  };
}

/** Exit 1 when any verdict is not as expected (errors and cases that did not run included). */
export const verdictExitCode = (verdicts: Verdict[]): number => (verdicts.every((v) => v.pass) ? EXIT.ok : EXIT.verdict);
