import { UNIDENTIFIED_ACTOR } from '../../domain/actor';
import type { AuditLog } from '../ports/auditLog';

/**
 * A card click from someone Teams did not identify (no Entra object id on the activity) is
 * refused by every feature, and is on the record like the feature's own refusals: the same
 * `<event>.refused`, subject and `attempted`, with reason `unidentified` and an actor that names
 * no one (UNIDENTIFIED_ACTOR). The Teams layer says what the click attempted; this writes it.
 */

export const UNIDENTIFIED_REASON = 'unidentified';

/** What a click would have done, as the feature's own refusal events name it. */
export interface RefusedClick {
  /** The event is `<event>.refused`: 'approval', 'guestAccess', 'accessReview', 'bulkJob', 'invitation', 'redemptionReset'. */
  event: string;
  subjectType: string;
  /** The subject the card names. The card's data is whatever the client sent: kept only when it looks like an id. */
  subjectId: unknown;
  attempted: string;
}

/** Where the subject a card names is not an id (missing, too long, odd characters, an address). */
export const UNKNOWN_SUBJECT = 'unknown';

export async function recordUnidentifiedClick(audit: Pick<AuditLog, 'append'>, click: RefusedClick): Promise<void> {
  await audit.append({
    actorId: UNIDENTIFIED_ACTOR.id,
    actorName: UNIDENTIFIED_ACTOR.name,
    action: `${click.event}.refused`,
    subjectType: click.subjectType,
    subjectId: cardId(click.subjectId) ?? UNKNOWN_SUBJECT,
    details: { attempted: click.attempted, reason: UNIDENTIFIED_REASON },
  });
}

/** An id from a card's data: letters, digits and a few separators, at most 200 characters (never an address). */
function cardId(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return /^[A-Za-z0-9._:|/-]{1,200}$/.test(trimmed) ? trimmed : null;
}
