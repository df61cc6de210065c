// A digest from outside the tool (registry headers, docker's and crictl's output) is used only
// when it is one: it becomes part of what gets signed and of the references CRI-O pulls.
import { EnvironmentError } from '../core/errors.js';

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export const isDigest = (value: string): boolean => DIGEST.test(value);

/** The value when it is "sha256:" and 64 lowercase hex digits; an error naming it and its source otherwise. */
export function checkedDigest(value: string, source: string): string {
  if (!isDigest(value)) throw new EnvironmentError(`${source} gave ${JSON.stringify(value.slice(0, 200))}, which is not a digest (sha256: and 64 lowercase hex digits)`);
  return value;
}

/** The manifest digest docker push printed ("TAG: digest: sha256:… size: N"), or undefined when it printed none. */
export function pushedDigest(output: string): string | undefined {
  const m = /^\S*:? ?digest: (\S+) size: \d+$/m.exec(output);
  return m ? checkedDigest(m[1], 'docker push') : undefined;
}
