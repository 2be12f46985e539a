/**
 * Notices that could not reach a person (no personal chat with the bot stored yet, or the chat is
 * gone or failed), kept until they next talk to the bot and then delivered there.
 *
 * Why here: the lifecycle use cases record a reminder as sent whatever the delivery says
 * ('unreachable' included), so that a sponsor who never opened the bot does not stall every other
 * guest's work behind retries. The Teams layer keeps the card instead, in the store (it survives a
 * restart), and the first activity of that person in their personal chat (opening the app,
 * installing it, or any message) brings it. The card's buttons re-check everything at the click,
 * so a late card can only show how things stand now.
 */
import type { Activity, ConversationReference, Storage } from 'botbuilder';
import type { Clock } from '../../domain/clock';
import { changeDocument } from './storedDocument';
import type { LifecycleSender } from './lifecycleNotifier';

export interface PendingNotice {
  /** Identifies the notice: a newer notice with the same key replaces the older one (e.g. kind + access). */
  key: string;
  activity: Partial<Activity>;
  createdAt: string;
}

interface PendingDocument {
  notices: PendingNotice[];
}

/** At most this many notices wait per person (the oldest go first). */
export const MAX_PENDING_PER_PERSON = 20;
/** Notices older than this are dropped rather than delivered: out of date by then. */
export const PENDING_MAX_AGE_MS = 30 * 24 * 60 * 60_000;

const keyFor = (userId: string): string => `lifecycle/pendingNotices/${userId}`;

export class PendingNotices {
  constructor(
    private readonly storage: Storage,
    private readonly clock: Clock,
  ) {}

  async add(userId: string, key: string, activity: Partial<Activity>): Promise<void> {
    const notice: PendingNotice = { key, activity, createdAt: this.clock.now().toISOString() };
    await changeDocument<PendingDocument, void>(this.storage, keyFor(userId), (current) => {
      const kept = (current?.notices ?? []).filter((n) => n.key !== key);
      return { next: { notices: [...kept, notice].slice(-MAX_PENDING_PER_PERSON) }, result: undefined };
    });
  }

  /** Takes every notice waiting for `userId` (none left behind for another taker), fresh ones only. */
  async take(userId: string): Promise<PendingNotice[]> {
    const oldest = this.clock.now().getTime() - PENDING_MAX_AGE_MS;
    return changeDocument<PendingDocument, PendingNotice[]>(this.storage, keyFor(userId), (current) => {
      if (!current || current.notices.length === 0) return { next: null, result: [] };
      return { next: { notices: [] }, result: current.notices.filter((n) => Date.parse(n.createdAt) >= oldest) };
    });
  }

  /** How many wait for `userId` (tests, "what is scheduled"). */
  async count(userId: string): Promise<number> {
    const items = await this.storage.read([keyFor(userId)]);
    const doc = items[keyFor(userId)] as PendingDocument | undefined;
    return doc?.notices.length ?? 0;
  }

  /**
   * Sends what waits for `userId` to the chat in `reference`; what still fails waits again.
   * Returns how many were delivered.
   */
  async deliver(userId: string, reference: Partial<ConversationReference>, sender: LifecycleSender): Promise<number> {
    const notices = await this.take(userId);
    let delivered = 0;
    for (const notice of notices) {
      const result = await sender.send(reference, notice.activity);
      if (result.ok) delivered += 1;
      else await this.add(userId, notice.key, notice.activity);
    }
    return delivered;
  }
}
