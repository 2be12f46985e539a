/**
 * Understanding a guest-help question: which topic a message asks about, if any. Plain text
 * rules, no I/O.
 */
import { extractEmail } from '../../domain/email';
import { trimEndChars } from '../../domain/text';

export type GuestHelpTopic = 'otp' | 'sync' | 'lostAccess' | 'advice' | 'menu';

const SIGN_IN_WORDS = /\b(sign[- ]?in|log[- ]?in|get|method|account)\b/i;
const OTHER_FEATURES = /^\s*(invite|add|remove|approve|reject|bulk|import|upload)\b|\b(csv|approv\w*)\b/i;
const QUESTION = /\?\s*$|^\s*(why|how|what|where|when|who|which|can|could|do|does|did|is|are|will|should)\b/i;
const GUEST_WORDS = /\b(guest|sign\w*|log\w*|access|account|password|code|site|files?|library|teams)\b/i;

/**
 * Whether `second` occurs after the first occurrence of `first`: what `first.*second` tests,
 * without its backtracking (which retried from every match of `first`: quadratic).
 */
function laterInText(text: string, first: RegExp, second: RegExp): boolean {
  const found = first.exec(text);
  return found !== null && second.test(text.slice(found.index + found[0].length));
}

/** What a message asks, or null when it is none of guest help's business. */
export function classifyGuestQuestion(text: string): GuestHelpTopic | null {
  const t = text.trim();
  if (!t) return null;
  const mentionsAddress = extractEmail(t).kind !== 'none';
  if (mentionsAddress) {
    return SIGN_IN_WORDS.test(t) && !OTHER_FEATURES.test(t) ? 'advice' : null;
  }
  if (laterInText(t, /\bwhat\s+(sign[- ]?in|login)\b/i, /\b(get|use|have)\b/i) || /\bwhat will (they|he|she|the guest) (get|use)\b/i.test(t)) {
    return 'advice';
  }
  if (/\b(codes?|passcodes?|otp|one[- ]time)\b/i.test(t)) return 'otp';
  if (/\b(sync\w*|onedrive)\b/i.test(t)) return 'sync';
  if (
    laterInText(t, /\b(lost|lose|losing|removed|revoked|no longer|can'?t|cannot|denied)\b/i, /\baccess\b/i) ||
    laterInText(t, /\baccess\b/i, /\b(lost|removed|revoked|denied|gone)\b/i) ||
    /\blocked out\b/i.test(t)
  ) {
    return 'lostAccess';
  }
  if (/^(?:guest help|help me sign in|sign-?in help)$/i.test(trimEndChars(t, '.!? \t').trim())) return 'menu';
  return null;
}

/** Whether the message reads as a question at all (a cheap test before looking the asker up). */
export function looksLikeQuestion(text: string): boolean {
  return QUESTION.test(text);
}

/** An unrecognised question that guest help should answer with its menu rather than a guess. */
export function isUnansweredGuestQuestion(text: string, askerIsGuest: boolean): boolean {
  if (!QUESTION.test(text) || OTHER_FEATURES.test(text) || /\binvit\w*/i.test(text)) return false;
  return askerIsGuest || GUEST_WORDS.test(text);
}
