/**
 * Builders for the invitation feature's tests: the demo directory, an in-memory store with the
 * invitation table, the real sign-in advisor and InviteGuestService, and a TestAdapter that
 * drives the bot's RootDialog with the invite feature, as a given demo user.
 */
import { ActivityTypes, ConversationState, MemoryStorage, TestAdapter, type Activity, type Attachment, type TurnContext } from 'botbuilder';
import type { DialogState } from 'botbuilder-dialogs';
import { RootDialog } from '../../src/teams/bot/RootDialog';
import type { BotFeature } from '../../src/teams/bot/feature';
import { createInviteFeature } from '../../src/teams/invite/inviteFeature';
import type { FakeDirectory } from '../../src/adapters/demo/FakeDirectory';
import type { TenantFixture } from '../../src/adapters/demo/fixture';
import { SqliteInvitationRepository, invitationMigrations } from '../../src/adapters/sqlite/invitations';
import type { Store } from '../../src/adapters/repositories';
import type { InvitationRepository } from '../../src/usecases/ports/invitations';
import { InviteGuestService } from '../../src/usecases/invite/inviteGuest';
import { type ApprovalGateway, type InviteGuestDependencies } from '../../src/usecases/invite/ports';
import { SignInAdvisor } from '../../src/usecases/signIn/signInAdvisor';
import { DEMO, demoDirectory, fixedClock, type TestClock } from './directory';
import { DEFAULT_LIFECYCLE_SETTINGS, type LifecycleSettings } from '../../src/domain/lifecycle';
import { guestAccountsFrom } from '../../src/app/lifecycleWiring';
import { createGuestLifecycle, type GuestLifecycle } from '../../src/usecases/lifecycle/guestLifecycle';
import { AccessRecording, type AccessRecorder } from '../../src/usecases/invite/accessRecording';
import { RecordingNotifier } from './lifecycle';
import { botTestStore, memoryStore, TEST_STORE } from './store';

export type DemoUserKey = keyof typeof DEMO.users;

export interface InviteTestbed {
  directory: FakeDirectory;
  store: Store;
  invitations: InvitationRepository;
  service: InviteGuestService;
  clock: TestClock;
  /** Milliseconds the service asked to wait (it never really waits). */
  waits: number[];
  actor(user: DemoUserKey): { userId: string; name: string; tenantId: string };
  /** The guest lifecycle the invitations record access through (over the testbed's store and directory). */
  lifecycle: GuestLifecycle;
  /** The recording the service was given (null with `lifecycle: false`). */
  access: AccessRecording | null;
  lifecycleSettings: LifecycleSettings;
}

export function inviteTestbed(
  options: {
    tweak?: (fixture: TenantFixture) => void;
    approvals?: ApprovalGateway | null;
    sendInvitationEmail?: boolean;
    service?: Partial<InviteGuestDependencies>;
    /** Lifecycle settings (GUEST_ACCESS_DAYS …), or false for a service without the guest lifecycle. */
    lifecycle?: Partial<LifecycleSettings> | false;
    /** Stands in for the lifecycle's recordAccess (e.g. one that fails). */
    recorder?: AccessRecorder;
  } = {},
): InviteTestbed {
  const clock = fixedClock();
  const directory = demoDirectory({ clock, tweak: options.tweak });
  // TEST_STORE=azure: the store's own repositories on Azure Storage; else SQLite in memory.
  const sqlite = TEST_STORE === 'azure' ? null : memoryStore(invitationMigrations, { clock });
  const store: Store = sqlite ?? botTestStore({ clock });
  const invitations: InvitationRepository = sqlite ? new SqliteInvitationRepository(sqlite.db, { clock }) : store.invitations;
  const waits: number[] = [];
  const lifecycleSettings: LifecycleSettings = { ...DEFAULT_LIFECYCLE_SETTINGS, ...(options.lifecycle || {}) };
  const lifecycle = createGuestLifecycle({
    access: store.guestAccess,
    work: store.scheduledWork,
    accounts: guestAccountsFrom(directory),
    notifier: new RecordingNotifier(),
    audit: store.audit,
    clock,
    settings: lifecycleSettings,
    approvals: null,
  });
  const access =
    options.lifecycle === false
      ? null
      : new AccessRecording({
          recorder: options.recorder ?? lifecycle,
          work: store.scheduledWork,
          invitations,
          accessRecords: store.guestAccess,
          settings: lifecycleSettings,
          clock,
        });
  const service = new InviteGuestService({
    directory,
    advisor: new SignInAdvisor(directory),
    invitations,
    audit: store.audit,
    approvals: options.approvals ?? null,
    sendInvitationEmail: options.sendInvitationEmail ?? false,
    clock,
    sleep: async (ms) => {
      waits.push(ms);
    },
    access,
    ...options.service,
  });
  return {
    directory,
    store,
    invitations,
    service,
    clock,
    waits,
    lifecycle,
    access,
    lifecycleSettings,
    actor: (user) => ({ userId: DEMO.users[user].id, name: DEMO.users[user].displayName, tenantId: DEMO.tenantId }),
  };
}

export type ConversationKind = 'personal' | 'groupChat' | 'channel';

export interface BotHarness extends InviteTestbed {
  adapter: TestAdapter;
  feature: BotFeature;
  /** Sends a message as `user` and returns every activity the bot sent during that turn. */
  say(text: string, options?: { as?: DemoUserKey; value?: Record<string, unknown> }): Promise<Partial<Activity>[]>;
  /** Sends an Action.Submit (message with value, no text). */
  submit(value: Record<string, unknown>, options?: { as?: DemoUserKey }): Promise<Partial<Activity>[]>;
  /** Sends an adaptiveCard/action invoke and returns the invoke response body. */
  execute(verb: string, data: Record<string, unknown>, options?: { as?: DemoUserKey }): Promise<unknown>;
}

/** The bot's RootDialog with the invite feature (plus `extraFeatures`) on a TestAdapter. */
export function inviteBot(
  options: Parameters<typeof inviteTestbed>[0] & { conversation?: ConversationKind; teamGroupId?: string; extraFeatures?: BotFeature[] } = {},
): BotHarness {
  const testbed = inviteTestbed(options);
  const feature = createInviteFeature({
    service: testbed.service,
    directory: testbed.directory,
    invitations: testbed.invitations,
  });
  const features = [feature, ...(options.extraFeatures ?? [])];
  const root = new RootDialog(features);
  // The dialog state in the store under test (TEST_STORE=azure: Blob storage), else in memory.
  const conversationState = new ConversationState(TEST_STORE === 'azure' ? testbed.store.botStorage : new MemoryStorage());
  const dialogState = conversationState.createProperty<DialogState>('DialogState');
  const kind = options.conversation ?? 'personal';

  const adapter = new TestAdapter(async (context: TurnContext) => {
    if (context.activity.type === ActivityTypes.Invoke) {
      const a = context.activity.value as { action: { verb: string; data: Record<string, unknown> } };
      const handler = feature.actions?.[a.action.verb];
      const actorUser = context.activity.from;
      const response = handler
        ? await handler(context, { userId: actorUser.aadObjectId ?? '', name: actorUser.name ?? '', tenantId: DEMO.tenantId }, a.action.data)
        : { status: 404 };
      await context.sendActivity({ type: 'invokeResponse', value: response });
      return;
    }
    await root.run(context, dialogState);
    await conversationState.saveChanges(context, false);
  });

  const base = (as: DemoUserKey): Partial<Activity> => {
    const user = DEMO.users[as];
    return {
      from: { id: `29:${user.id}`, name: user.displayName, aadObjectId: user.id },
      conversation: {
        id: kind === 'personal' ? `a:personal-${as}` : kind === 'groupChat' ? '19:group@thread.v2' : '19:channel@thread.tacv2',
        isGroup: kind !== 'personal',
        conversationType: kind,
        tenantId: DEMO.tenantId,
        name: '',
      },
      channelId: 'msteams',
      channelData: {
        tenant: { id: DEMO.tenantId },
        ...(kind === 'channel'
          ? { team: { id: '19:team@thread.tacv2', aadGroupId: options.teamGroupId ?? DEMO.groups.projectFalcon.id }, channel: { id: '19:channel@thread.tacv2' } }
          : {}),
      },
    };
  };

  async function turn(activity: Partial<Activity>): Promise<Partial<Activity>[]> {
    const replies: Partial<Activity>[] = [];
    await adapter.processActivity(activity);
    for (;;) {
      const next = adapter.activeQueue.shift();
      if (!next) break;
      replies.push(next);
    }
    return replies;
  }

  return {
    ...testbed,
    adapter,
    feature,
    say: (text, o = {}) => turn({ ...base(o.as ?? 'megan'), type: ActivityTypes.Message, text, value: o.value }),
    submit: (value, o = {}) => turn({ ...base(o.as ?? 'megan'), type: ActivityTypes.Message, value }),
    execute: async (verb, data, o = {}) => {
      const replies = await turn({
        ...base(o.as ?? 'megan'),
        type: ActivityTypes.Invoke,
        name: 'adaptiveCard/action',
        value: { action: { type: 'Action.Execute', verb, data } },
      });
      const response = replies.find((r) => r.type === 'invokeResponse')?.value as { body?: unknown } | undefined;
      return response?.body;
    },
  };
}

/** The text a user sees in a reply: the message text plus every string inside its cards. */
export function visibleText(activities: Partial<Activity>[]): string {
  const parts: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') parts.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  for (const a of activities) {
    if (a.text) parts.push(a.text);
    for (const att of a.attachments ?? []) walk((att as Attachment).content);
    if (a.suggestedActions) walk(a.suggestedActions);
  }
  return parts.join('\n');
}

/** The Adaptive Cards in replies. */
export function cardsIn(activities: Partial<Activity>[]): Array<Record<string, unknown>> {
  return activities.flatMap((a) =>
    (a.attachments ?? [])
      .filter((att) => att.contentType === 'application/vnd.microsoft.card.adaptive')
      .map((att) => att.content as Record<string, unknown>),
  );
}
