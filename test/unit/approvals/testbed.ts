/**
 * Builders for the approvals tests: the demo directory, a store with the approval tables, the
 * real InviteGuestService (so "one invitation" is counted at the directory), the real Notifier
 * over a recording adapter, and demo users who have (or have not) chatted with the bot.
 */
import { DEFAULT_LIFECYCLE_SETTINGS } from '../../../src/domain/lifecycle';
import { guestAccountsFrom } from '../../../src/app/lifecycleWiring';
import { createGuestLifecycle } from '../../../src/usecases/lifecycle/guestLifecycle';
import { AccessRecording } from '../../../src/usecases/invite/accessRecording';
import { RecordingNotifier } from '../../support/lifecycle';
import {
  BotAdapter,
  TurnContext,
  type Activity,
  type ConversationReference,
  type ResourceResponse,
} from 'botbuilder';
import { SqliteApprovalRequestRepository } from '../../../src/adapters/sqlite/approvalRequests';
import { type ApprovalRequest } from '../../../src/usecases/approvals/model';
import { approvalMigrations } from '../../../src/adapters/sqlite/approvalSchema';
import { ApprovalService } from '../../../src/usecases/approvals/approvalService';
import type { InvitationExecutor, IntakeDependencies, ApprovalServiceSettings } from '../../../src/usecases/approvals/runtime';
import { ApprovalIntake } from '../../../src/usecases/approvals/approvalIntake';
import type { ApprovalView } from '../../../src/usecases/approvals/notifications';
import { TeamsApprovalNotifier, teamsApprovalChats } from '../../../src/teams/approvals/approvalNotifier';
import { createApprovalFeature } from '../../../src/teams/approvals/approvalFeature';
import type { BotFeature } from '../../../src/teams/bot/feature';
import type { AdaptiveCard } from '../../../src/teams/cards';
import { DEMO_APPROVER_GROUP_ID } from '../../../src/app/approvalSettings';
import { inMemoryRoster } from '../../../src/usecases/approvals/approverRoster';
import type { Actor } from '../../../src/domain/actor';
import { Notifier, type ProactiveAdapter } from '../../../src/teams/bot/proactive';
import type { FakeDirectory } from '../../../src/adapters/demo/FakeDirectory';
import { SqliteInvitationRepository, invitationMigrations } from '../../../src/adapters/sqlite/invitations';
import { resetRequestMigrations, SqliteResetRequestRepository } from '../../../src/adapters/sqlite/resetRequests';
import { sqliteDatabaseOf } from '../../../src/adapters/sqlite/store';
import type { SqliteAuditLog } from '../../../src/adapters/sqlite/audit';
import type { SqliteLeaseStore } from '../../../src/adapters/sqlite/leases';
import type { Store } from '../../../src/adapters/repositories';
import type { ApprovalRequestRepository, ResetRequestRepository } from '../../../src/usecases/approvals/ports';
import type { ConversationReferenceRepository } from '../../../src/usecases/ports/conversationReferences';
import type { InvitationRequest, InvitationStatusView, InviteOutcome } from '../../../src/usecases/invite/model';
import { InviteGuestService } from '../../../src/usecases/invite/inviteGuest';
import { SignInAdvisor } from '../../../src/usecases/signIn/signInAdvisor';
import { DEMO, demoDirectory, fixedClock, type TestClock } from '../../support/directory';
import { botTestStore, memoryStore, tempStore, TEST_STORE } from '../../support/store';

export { DEMO };
export type DemoUser = keyof typeof DEMO.users;

export const APPROVAL_TEST_MIGRATIONS = [...invitationMigrations, ...resetRequestMigrations, ...approvalMigrations];

export function actorOf(user: DemoUser): Actor {
  return { userId: DEMO.users[user].id, name: DEMO.users[user].displayName, tenantId: DEMO.tenantId };
}

export const personalConversationId = (user: DemoUser): string => `a:personal-${user}`;
export const mriOf = (user: DemoUser): string => `29:mri-${user}`;

/** The reference the bot stores for a user's personal chat (as the bot shell would on install). */
export function personalReference(user: DemoUser): Partial<ConversationReference> {
  return {
    channelId: 'msteams',
    serviceUrl: 'https://smba.test.example/emea/',
    bot: { id: '28:bot', name: 'Guest onboarding' },
    user: { id: mriOf(user), name: DEMO.users[user].displayName, aadObjectId: DEMO.users[user].id },
    conversation: { id: personalConversationId(user), conversationType: 'personal', tenantId: DEMO.tenantId, isGroup: false, name: '' },
  };
}

export const APPROVALS_CHANNEL = '19:approvals@thread.tacv2';

export function channelReference(conversationId = APPROVALS_CHANNEL): Partial<ConversationReference> {
  return {
    channelId: 'msteams',
    serviceUrl: 'https://smba.test.example/emea/',
    bot: { id: '28:bot', name: 'Guest onboarding' },
    conversation: { id: conversationId, conversationType: 'channel', tenantId: DEMO.tenantId, isGroup: true, name: 'Approvals' },
  };
}

/** What the adapter delivered, by conversation. */
export interface Delivered {
  conversationId: string;
  activity: Partial<Activity>;
}

/** The wire under a proactive turn: records what is sent and updated, or fails with a status code. */
class RecordingWire extends BotAdapter {
  private counter = 0;
  constructor(private readonly owner: RecordingAdapter) {
    super();
  }

  override async sendActivities(context: TurnContext, activities: Partial<Activity>[]): Promise<ResourceResponse[]> {
    const conversationId = context.activity.conversation.id;
    this.owner.failIfAsked(conversationId);
    return activities.map((a) => {
      const id = `activity-${++this.counter}`;
      this.owner.sent.push({ conversationId, activity: { ...a, id } });
      return { id };
    });
  }

  override async updateActivity(context: TurnContext, activity: Partial<Activity>): Promise<ResourceResponse | void> {
    const conversationId = context.activity.conversation.id;
    this.owner.failIfAsked(conversationId);
    this.owner.updated.push({ conversationId, activity });
  }

  override async deleteActivity(): Promise<void> {}

  override async continueConversation(): Promise<void> {
    throw new Error('use RecordingAdapter.continueConversationAsync');
  }
}

/**
 * A ProactiveAdapter (what Notifier needs) that records what is sent and updated. A conversation
 * can be made to fail with a status code (403: the bot was removed from the chat).
 */
export class RecordingAdapter implements ProactiveAdapter {
  readonly sent: Delivered[] = [];
  readonly updated: Delivered[] = [];
  readonly failing = new Map<string, number>();
  private readonly wire = new RecordingWire(this);

  async continueConversationAsync(
    _botAppId: string,
    reference: Partial<ConversationReference>,
    logic: (context: TurnContext) => Promise<void>,
  ): Promise<void> {
    const activity = TurnContext.applyConversationReference({ type: 'event', name: 'continueConversation' }, reference, true);
    await logic(new TurnContext(this.wire, activity));
  }

  failIfAsked(conversationId: string): void {
    const status = this.failing.get(conversationId);
    if (status !== undefined) {
      throw Object.assign(new Error(status === 403 ? 'Forbidden: the bot is not part of the conversation roster.' : 'failed'), {
        statusCode: status,
      });
    }
  }

  /** Cards sent to a conversation, oldest first. */
  cardsSentTo(conversationId: string): Array<Record<string, unknown>> {
    return this.sent.filter((d) => d.conversationId === conversationId).flatMap((d) => cardContents(d.activity));
  }

  /** Cards a conversation's messages were updated to, oldest first. */
  updatesIn(conversationId: string): Array<Record<string, unknown>> {
    return this.updated.filter((d) => d.conversationId === conversationId).flatMap((d) => cardContents(d.activity));
  }
}

function cardContents(activity: Partial<Activity>): Array<Record<string, unknown>> {
  return (activity.attachments ?? [])
    .filter((a) => a.contentType === 'application/vnd.microsoft.card.adaptive')
    .map((a) => a.content as Record<string, unknown>);
}

/** Every string in a card, joined: what a user can read. */
export function textOf(card: unknown): string {
  const parts: string[] = [];
  const walk = (v: unknown, key: string | null): void => {
    if (key === 'data' || key === 'refresh') return;
    if (typeof v === 'string') parts.push(v);
    else if (Array.isArray(v)) v.forEach((x) => walk(x, null));
    else if (v && typeof v === 'object') Object.entries(v).forEach(([k, x]) => walk(x, k));
  };
  walk(card, null);
  return parts.join('\n');
}

/** Action titles and verbs on a card (top-level and inside ShowCards). */
export function verbsOn(card: unknown): string[] {
  const verbs: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.type === 'Action.Execute' && typeof o.verb === 'string' && o.verb !== 'approval.refresh') verbs.push(o.verb);
      Object.entries(o).forEach(([k, x]) => {
        if (k !== 'refresh') walk(x);
      });
    }
  };
  walk(card);
  return verbs;
}

/** Counts execute calls and lets a test hold them back. */
export class CountingExecutor implements InvitationExecutor {
  calls: InvitationRequest[] = [];
  constructor(private readonly inner: InvitationExecutor) {}
  execute(request: InvitationRequest): Promise<InviteOutcome> {
    this.calls.push(request);
    return this.inner.execute(request);
  }
  get emailsInvitations(): boolean {
    return this.inner.emailsInvitations ?? false;
  }
  statusOf(actor: Actor, email: string): Promise<InvitationStatusView[]> {
    return this.inner.statusOf ? this.inner.statusOf(actor, email) : Promise.resolve([]);
  }
}

export interface ApprovalTestbedOptions {
  /** An existing store (e.g. re-opened after a "restart"); default: a fresh in-memory one. */
  store?: Store;
  /** Use a temp file instead of memory. */
  onDisk?: boolean;
  directory?: FakeDirectory;
  clock?: TestClock;
  settings?: Partial<ApprovalServiceSettings>;
  /** Users with a stored personal chat (default: everyone). */
  reachable?: DemoUser[];
  adapter?: RecordingAdapter;
  inlineBudgetMs?: number;
  /** Wraps the real invitation service as the approvals' executor (e.g. to make it "crash"). */
  wrapExecutor?: (inner: InvitationExecutor) => InvitationExecutor;
  /** Wire the guest lifecycle as the composition root does (access recorded, ends on the cards). */
  lifecycle?: boolean;
}

export interface ApprovalTestbed {
  store: Store;
  directory: FakeDirectory;
  clock: TestClock;
  requests: ApprovalRequestRepository;
  invite: InviteGuestService;
  executor: CountingExecutor;
  adapter: RecordingAdapter;
  resetLedger: ResetRequestRepository;
  service: ApprovalService;
  settings: ApprovalServiceSettings;
  /** The Teams feature over the service (invoke handlers, "pending", conversation seen). */
  feature: BotFeature;
  /** The bot saw an activity in this conversation (its reference is stored first, as the bot does). */
  seen(reference: Partial<ConversationReference>): Promise<void>;
  /** A view drawn as its Adaptive Card. */
  render(view: ApprovalView): Promise<AdaptiveCard>;
  /** Submits "invite Jane Doe <email> to Project Falcon" as `requester` through the invitation service. */
  requestInvitation(options?: { as?: DemoUser; email?: string; name?: string; groupId?: string; justification?: string }): Promise<ApprovalRequest>;
}

/** The references, read only once the personal chats the testbed stores up front are written. */
function afterSeeding(references: ConversationReferenceRepository, seeded: Promise<unknown>): ConversationReferenceRepository {
  return {
    upsert: async (reference) => (await seeded, references.upsert(reference)),
    get: async (id) => (await seeded, references.get(id)),
    getPersonal: async (userId) => (await seeded, references.getPersonal(userId)),
    delete: async (id) => (await seeded, references.delete(id)),
  };
}

export function approvalTestbed(options: ApprovalTestbedOptions = {}): ApprovalTestbed {
  const clock = options.clock ?? fixedClock();
  const directory = options.directory ?? demoDirectory({ clock });
  // TEST_STORE=azure (and no store handed in): the store's own repositories on Azure Storage.
  const azure = TEST_STORE === 'azure' && !options.store && !options.onDisk;
  const opened: Store =
    options.store ??
    (azure ? botTestStore({ clock }) : options.onDisk ? tempStore(APPROVAL_TEST_MIGRATIONS, { clock }) : memoryStore(APPROVAL_TEST_MIGRATIONS, { clock }));
  const seeding: Promise<unknown>[] = [];
  for (const user of options.reachable ?? (Object.keys(DEMO.users) as DemoUser[])) {
    // The SQLite and memory repositories write before their promise settles; Azure's is awaited below.
    seeding.push(opened.conversationReferences.upsert(personalReference(user)));
  }
  const store: Store = azure ? { ...opened, conversationReferences: afterSeeding(opened.conversationReferences, Promise.all(seeding)) } : opened;
  const requests: ApprovalRequestRepository = azure
    ? store.approvalRequests
    : new SqliteApprovalRequestRepository(sqliteDatabaseOf(store), { audit: store.audit as SqliteAuditLog, leases: store.leases as SqliteLeaseStore });
  const adapter = options.adapter ?? new RecordingAdapter();
  const resetLedger: ResetRequestRepository = azure
    ? store.resetRequests
    : new SqliteResetRequestRepository(sqliteDatabaseOf(store), { now: clock }, store.audit as SqliteAuditLog);
  const settings: ApprovalServiceSettings = {
    policy: 'nonOwners',
    partnerDomains: [],
    approverGroupId: DEMO_APPROVER_GROUP_ID,
    ownersMayApprove: false,
    approvalsChannelId: null,
    expiryDays: 14,
    allowRedemptionReset: false,
    ...options.settings,
  };
  const notifier = new TeamsApprovalNotifier(new Notifier(adapter, ''), store.conversationReferences);
  const intakeDeps: IntakeDependencies = {
    requests,
    directory,
    roster: inMemoryRoster(directory.state),
    chats: teamsApprovalChats(store.conversationReferences),
    notifier,
    audit: store.audit,
    settings,
    clock: { now: clock },
    ...(options.lifecycle ? { access: DEFAULT_LIFECYCLE_SETTINGS } : {}),
  };
  const inviteInvitations = azure ? store.invitations : new SqliteInvitationRepository(sqliteDatabaseOf(store), { clock });
  const lifecycle = createGuestLifecycle({
    access: store.guestAccess,
    work: store.scheduledWork,
    accounts: guestAccountsFrom(directory),
    notifier: new RecordingNotifier(),
    audit: store.audit,
    clock,
    settings: DEFAULT_LIFECYCLE_SETTINGS,
    approvals: null,
  });
  const access = options.lifecycle
    ? new AccessRecording({ recorder: lifecycle, work: store.scheduledWork, invitations: inviteInvitations, accessRecords: store.guestAccess, settings: DEFAULT_LIFECYCLE_SETTINGS, clock })
    : null;
  // As the composition root builds them: the invitation flow with the approvals' intake, then the
  // approvals with the invitation flow as their executor.
  const invite = new InviteGuestService({
    directory,
    advisor: new SignInAdvisor(directory),
    invitations: inviteInvitations,
    audit: store.audit,
    sendInvitationEmail: false,
    clock,
    sleep: async () => undefined,
    approvals: new ApprovalIntake(intakeDeps),
    access,
  });
  const executor = new CountingExecutor(options.wrapExecutor ? options.wrapExecutor(invite) : invite);
  const service = new ApprovalService({
    ...intakeDeps,
    invitations: executor,
    inlineBudgetMs: options.inlineBudgetMs ?? 2000,
    resetLedger,
    leases: store.leases,
    holderId: store.holders.holderId,
  });
  const render = (view: ApprovalView): Promise<AdaptiveCard> => notifier.render(view);
  const feature = createApprovalFeature({ approvals: service, render, conversations: store.conversationReferences });

  return {
    store,
    directory,
    clock,
    requests,
    invite,
    executor,
    adapter,
    resetLedger,
    service,
    settings,
    feature,
    async seen(reference) {
      await store.conversationReferences.upsert(reference);
      await feature.onConversationSeen?.(reference);
    },
    render,
    async requestInvitation(o = {}) {
      const as = o.as ?? 'adele';
      const result = await invite.submitForApproval(
        {
          email: o.email ?? 'jane.doe@outlook.com',
          displayName: o.name ?? 'Jane Doe',
          groupId: o.groupId ?? DEMO.groups.projectFalcon.id,
          requestedBy: actorOf(as),
          conversationRefKey: personalConversationId(as),
          source: 'chat',
        },
        o.justification ?? 'Jane runs the supplier audit for Falcon.',
      );
      if (!('approvers' in result)) throw new Error(`refused: ${result.message}`);
      const id = (result as { requestId?: string }).requestId;
      const request = id ? await requests.get(id) : null;
      if (!request) throw new Error('no approval request was recorded');
      return request;
    },
  };
}
