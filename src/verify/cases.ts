// The verdicts `test` checks, as data: which image, what CRI-O must decide, how the reason reads.
import { IMAGES, imageRef } from '../settings.js';

export interface PullCase {
  name: string;
  title: string;
  image: string;
  expected: 'accepted' | 'rejected';
  /** For a rejection: the library's reason that must follow SignatureValidationFailed. */
  reason?: RegExp;
}

export const BASE_CASES: PullCase[] = [
  { name: 'signed', title: 'signed with the trusted key', image: imageRef(IMAGES.signed), expected: 'accepted' },
  {
    name: 'unsigned',
    title: 'no signature at all',
    image: imageRef(IMAGES.unsigned),
    expected: 'rejected',
    reason: /A signature was required, but no signature exists/,
  },
];
