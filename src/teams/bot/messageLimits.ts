import type { TurnContext } from 'botbuilder';

/**
 * Longest message text the bot reads, in UTF-16 code units (JavaScript string length).
 * Teams itself refuses chat messages over about 28 KB ("Limits and specifications for
 * Microsoft Teams": https://learn.microsoft.com/microsoftteams/limits-specifications-teams),
 * so only a hand-made activity is ever longer; reading at most this much bounds the work any
 * one message can cause, whatever a pattern further down does with it.
 */
export const MAX_MESSAGE_CHARS = 28_000;

const CUT_KEY = Symbol('messageCut');

export const MESSAGE_CUT_NOTICE = `Your message was longer than ${MAX_MESSAGE_CHARS.toLocaleString('en-US')} characters (the most a Teams message holds), so I read only the start of it.`;

/**
 * Cuts an over-long message text in place, before anything parses it, and remembers the
 * original length for this turn. Returns true when the text was cut.
 */
export function cutLongMessage(context: TurnContext): boolean {
  const activity = context.activity;
  if (typeof activity.text !== 'string' || activity.text.length <= MAX_MESSAGE_CHARS) return false;
  let end = MAX_MESSAGE_CHARS;
  // Never leave half of a surrogate pair at the end.
  const last = activity.text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  context.turnState.set(CUT_KEY, activity.text.length);
  activity.text = activity.text.slice(0, end);
  return true;
}

/** The original length of this turn's message when it was cut, else null. */
export function cutMessageLength(context: TurnContext): number | null {
  const length: unknown = context.turnState.get(CUT_KEY);
  return typeof length === 'number' ? length : null;
}
