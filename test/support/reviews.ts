/** Access reviews over the demo tenant (FakeDirectory), a real guest lifecycle and a store, with a recording notifier. */
import { FakeDirectory } from '../../src/adapters/demo/FakeDirectory';
import { DEMO, demoTenantFixture } from '../../src/adapters/demo/demoTenant';
import type { Store } from '../../src/adapters/repositories';
import { DEMO_APPROVER_GROUP_ID } from '../../src/app/approvalSettings';
import { guestAccountsFrom, seedDemoGuestAccess } from '../../src/app/lifecycleWiring';
import { reviewApproversFrom, reviewDirectoryFrom, reviewRemovalsFrom } from '../../src/app/reviewsWiring';
import { DEFAULT_LIFECYCLE_SETTINGS } from '../../src/domain/lifecycle';
import { NO_EXCLUSIONS } from '../../src/domain/inactivity';
import type { Actor } from '../../src/domain/actor';
import { createGuestLifecycle, type GuestLifecycle } from '../../src/usecases/lifecycle/guestLifecycle';
import { createAccessReviews, type AccessReviews } from '../../src/usecases/reviews/accessReviews';
import type { ReviewSettings } from '../../src/usecases/reviews/model';
import type { Delivery, ReviewNotifier, ReviewPerson, ReviewView } from '../../src/usecases/reviews/ports';
import { ScheduledWorkRunner } from '../../src/usecases/scheduling/workRunner';
import { RecordingNotifier } from './lifecycle';
import { manualClock, memoryStore, tempStore, type ManualClock } from './store';

export const REVIEW_T0 = '2026-12-01T09:00:00.000Z';

const actor = (u: { id: string; displayName: string }, tenantId: string = DEMO.tenantId): Actor => ({ userId: u.id, name: u.displayName, tenantId });
export const MEGAN = actor(DEMO.users.megan);
export const ALEX = actor(DEMO.users.alex);
export const ADELE = actor(DEMO.users.adele);
export const JORDAN = actor(DEMO.users.jordan);
export const OTHER_TENANT_MEGAN = actor(DEMO.users.megan, '0f8e7d6c-0001-4a5b-9c8d-7e6f5a4b3c21');

export interface SentReview {
  type: 'requested' | 'escalated';
  to: string;
  view: ReviewView;
  owners?: ReviewPerson[];
}

/** Records every review card; people in `unreachable` never talked to the bot. */
export class RecordingReviewNotifier implements ReviewNotifier {
  readonly sent: SentReview[] = [];
  readonly unreachable = new Set<string>();
  /** Throws once for this person (a transient send failure). */
  readonly failOnce = new Set<string>();

  private record(entry: SentReview): Promise<Delivery> {
    if (this.failOnce.delete(entry.to)) return Promise.reject(new Error('connector 503'));
    if (this.unreachable.has(entry.to)) return Promise.resolve('unreachable');
    this.sent.push(entry);
    return Promise.resolve('sent');
  }

  reviewRequested(to: ReviewPerson, view: ReviewView): Promise<Delivery> {
    return this.record({ type: 'requested', to: to.id, view });
  }

  reviewEscalated(to: ReviewPerson, view: ReviewView, owners: ReviewPerson[]): Promise<Delivery> {
    return this.record({ type: 'escalated', to: to.id, view, owners });
  }
}

export interface ReviewHarness {
  clock: ManualClock;
  fake: FakeDirectory;
  store: Store;
  lifecycle: GuestLifecycle;
  reviews: AccessReviews;
  notifier: RecordingReviewNotifier;
  runner: ScheduledWorkRunner;
  /** Moves the clock on by whole or fractional days and runs due work, as the loop would. */
  travel(days: number): Promise<void>;
  /** Passes of the scheduler loop until one finds nothing due (work scheduled by a pass runs in the next). */
  tick(): Promise<void>;
}

export async function reviewHarness(
  options: {
    settings?: Partial<ReviewSettings>;
    /** A SQLite file: a restart or a second instance opens it again. */
    file?: string;
    /** A store opened by the caller (e.g. Azure Storage over Azurite, one per instance), on `clock`. */
    store?: Store;
    clock?: ManualClock;
    /** Carried over from another harness (a restart, a second instance): the same tenant, clock and inbox. */
    carry?: Pick<ReviewHarness, 'clock' | 'fake' | 'notifier'>;
  } = {},
): Promise<ReviewHarness> {
  const clock = options.carry?.clock ?? options.clock ?? manualClock(REVIEW_T0);
  const fake = options.carry?.fake ?? new FakeDirectory(demoTenantFixture({ lifecycleStagesAt: clock.now() }), { clock });
  const notifier = options.carry?.notifier ?? new RecordingReviewNotifier();
  const store: Store = options.store ?? (options.file ? tempStore([], { clock, file: options.file }) : memoryStore([], { clock }));
  const lifecycle = createGuestLifecycle({
    access: store.guestAccess,
    work: store.scheduledWork,
    accounts: guestAccountsFrom(fake),
    notifier: new RecordingNotifier(),
    audit: store.audit,
    clock,
    settings: DEFAULT_LIFECYCLE_SETTINGS,
    approvals: null,
  });
  if (!options.carry) await seedDemoGuestAccess(lifecycle, DEMO.tenantId, clock.now());
  const reviews = createAccessReviews({
    rounds: store.reviewRounds,
    access: store.guestAccess,
    work: store.scheduledWork,
    directory: reviewDirectoryFrom(fake),
    approvers: reviewApproversFrom(fake, DEMO_APPROVER_GROUP_ID),
    removals: reviewRemovalsFrom(lifecycle),
    notifier,
    audit: store.audit,
    clock,
    settings: {
      periodic: false,
      intervalDays: 90,
      escalateDays: 14,
      inactivity: { inactiveDays: 90, exclusions: NO_EXCLUSIONS },
      tenantId: DEMO.tenantId,
      ...options.settings,
    },
  });
  // Only the review kinds: the lifecycle's own reminders and ends (tested with the lifecycle) stay put,
  // so the site's guests stay as the demo has them.
  const runner = new ScheduledWorkRunner({ work: store.scheduledWork, holderId: store.holders.holderId, clock, handlers: reviews.handlers });
  const tick = async (): Promise<void> => {
    for (let pass = 0; pass < 5; pass += 1) {
      const done = await runner.runOnce();
      if (done.done + done.rescheduled + done.retried + done.superseded === 0) return;
    }
  };
  return {
    clock,
    fake,
    store,
    lifecycle,
    reviews,
    notifier,
    runner,
    async travel(days) {
      clock.advance(Math.round(days * 24 * 60 * 60_000));
      await tick();
    },
    tick,
  };
}
