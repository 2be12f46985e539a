/**
 * The lifecycle through the bot, as the composition root builds it: every feature from
 * buildFeatures (the lifecycle feature, the one scheduler, approvals…) over the demo tenant with
 * its guests at each lifecycle stage, the store under test (memory SQLite, or Azure in the
 * bot-azure project), a manual clock, and the real Notifier over a recording adapter. Turns go
 * through the real GuestOnboardingBot on a TestAdapter; the clicker is whoever the activity says.
 */
import { ActivityTypes, ConversationState, TestAdapter, UserState, type Activity } from 'botbuilder';
import { FakeDirectory } from '../../src/adapters/demo/FakeDirectory';
import { DEMO, DEMO_LIFECYCLE, demoTenantFixture } from '../../src/adapters/demo/demoTenant';
import type { Store } from '../../src/adapters/repositories';
import { buildFeatures } from '../../src/app/features';
import { loadConfig } from '../../src/app/config';
import type { BotServices } from '../../src/app/services';
import type { SchedulerFeature } from '../../src/app/schedulerWiring';
import { createLogger } from '../../src/shared/logger';
import { GuestOnboardingBot } from '../../src/teams/bot/GuestOnboardingBot';
import { RootDialog } from '../../src/teams/bot/RootDialog';
import type { BotFeature } from '../../src/teams/bot/feature';
import type { GuestAccessRecord } from '../../src/usecases/lifecycle/ports';
import { RecordingAdapter, personalReference, textOf, verbsOn, type DemoUser } from '../unit/approvals/testbed';
import { botTestStore, manualClock, type ManualClock } from './store';

export { DEMO, DEMO_LIFECYCLE, textOf, verbsOn };
/** 'unidentified': an activity Teams sent without saying who the Entra user is (no from.aadObjectId). */
export type Person = DemoUser | 'diego' | 'stranger' | 'unidentified';

/** Everyone in this file's tenant the tests speak as (Diego is the sponsor who left). */
function person(who: Person): { id: string; displayName: string } {
  if (who === 'unidentified') return { id: '', displayName: 'Someone' };
  if (who === 'stranger') return { id: '6f1c2b3a-9999-4c5d-8e9f-0a1b2c3d4e99', displayName: 'Someone Else' };
  if (who === 'diego') return DEMO_LIFECYCLE.departedSponsor;
  return DEMO.users[who];
}

export const personalChatOf = (who: Person): string => `a:personal-${who}`;

export interface InvokeBody {
  statusCode: number;
  type: string;
  value: Record<string, unknown>;
}

export interface LifecycleBot {
  clock: ManualClock;
  store: Store;
  directory: FakeDirectory;
  adapter: RecordingAdapter;
  features: BotFeature[];
  scheduler: SchedulerFeature;
  /** Starts every feature as the app does (the scheduler's first pass runs; awaited here). */
  start(): Promise<void>;
  /** One scheduler pass now (the interval's work), awaited. */
  runDue(): Promise<void>;
  say(text: string, as: Person): Promise<Partial<Activity>[]>;
  click(verb: string, data: Record<string, unknown>, as: Person): Promise<InvokeBody>;
  /** Stores `who`'s personal chat, as installing the app does, without a turn. */
  chatWith(who: DemoUser): Promise<void>;
  /** Cards posted proactively to `who`'s personal chat, oldest first. */
  cardsTo(who: Person): Array<Record<string, unknown>>;
  access(guest: keyof typeof DEMO_LIFECYCLE.guests): Promise<GuestAccessRecord>;
  stop(): Promise<void>;
}

export const START = '2026-12-01T09:00:00.000Z';

export async function lifecycleBot(options: { env?: Record<string, string>; seed?: boolean } = {}): Promise<LifecycleBot> {
  const clock = manualClock(START);
  const directory = new FakeDirectory(demoTenantFixture({ lifecycleStagesAt: clock.now() }), { clock });
  const store = botTestStore({ clock });
  const adapter = new RecordingAdapter();
  const config = loadConfig({ LOG_LEVEL: 'silent', ...options.env });
  const logger = createLogger({ level: 'silent' });
  const services: BotServices = {
    config,
    logger,
    directory,
    repositories: store,
    conversationState: new ConversationState(store.botStorage),
    botStorage: store.botStorage,
    userState: new UserState(store.botStorage),
    adapter,
    botAppId: '',
    clock,
  };
  const features = buildFeatures(services, { seedDemoGuests: options.seed ?? true });
  const scheduler = features.find((f) => f.name === 'scheduler') as SchedulerFeature;
  const bot = new GuestOnboardingBot({
    conversationState: services.conversationState,
    userState: services.userState,
    rootDialog: new RootDialog(features),
    features,
    logger,
    conversationReferences: store.conversationReferences,
    onceClaims: { leases: store.leases, holderId: store.holders.holderId },
    audit: store.audit,
  });
  const testAdapter = new TestAdapter((context) => bot.run(context));

  const from = (who: Person): Partial<Activity> => {
    const p = person(who);
    return {
      channelId: 'msteams',
      serviceUrl: 'https://smba.test.example/emea/',
      from: p.id ? { id: `29:mri-${who}`, name: p.displayName, aadObjectId: p.id } : { id: `29:mri-${who}`, name: p.displayName },
      conversation: { id: personalChatOf(who), conversationType: 'personal', tenantId: DEMO.tenantId, isGroup: false, name: '' },
      channelData: { tenant: { id: DEMO.tenantId } },
    };
  };
  const turn = async (activity: Partial<Activity>): Promise<Partial<Activity>[]> => {
    await testAdapter.processActivity(activity);
    const replies: Partial<Activity>[] = [];
    for (let next = testAdapter.activeQueue.shift(); next; next = testAdapter.activeQueue.shift()) replies.push(next);
    return replies;
  };
  const started: BotFeature[] = [];

  return {
    clock,
    store,
    directory,
    adapter,
    features,
    scheduler,
    async start() {
      for (const f of features) {
        if (!f.start) continue;
        await f.start();
        started.push(f);
      }
      await scheduler.firstPass();
    },
    async runDue() {
      await scheduler.runner.runOnce();
    },
    say: (text, as) => turn({ ...from(as), type: ActivityTypes.Message, text }),
    async click(verb, data, as) {
      const replies = await turn({ ...from(as), type: ActivityTypes.Invoke, name: 'adaptiveCard/action', value: { action: { type: 'Action.Execute', verb, data } } });
      const response = replies.find((r) => r.type === 'invokeResponse')?.value as { status: number; body: InvokeBody } | undefined;
      if (!response) throw new Error('no invoke response');
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
      return response.body;
    },
    async chatWith(who) {
      await store.conversationReferences.upsert({ ...personalReference(who), conversation: { ...personalReference(who).conversation!, id: personalChatOf(who) } });
    },
    cardsTo: (who) => adapter.cardsSentTo(personalChatOf(who)),
    async access(guest) {
      const record = await store.guestAccess.findByKey({ tenantId: DEMO.tenantId, groupId: DEMO.groups.projectFalcon.id, userId: DEMO_LIFECYCLE.guests[guest].id });
      if (!record) throw new Error(`no access record for ${guest}`);
      return record;
    },
    async stop() {
      for (const f of started.reverse()) await f.stop?.();
    },
  };
}

/** The Action.Execute on a card with this verb: its data (what the button sends). */
export function actionData(card: unknown, verb: string): Record<string, unknown> {
  let found: Record<string, unknown> | null = null;
  const walk = (v: unknown): void => {
    if (found) return;
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.type === 'Action.Execute' && o.verb === verb) found = (o.data ?? {}) as Record<string, unknown>;
      else Object.values(o).forEach(walk);
    }
  };
  walk(card);
  if (!found) throw new Error(`no ${verb} on the card`);
  return found;
}

/** The card of a message reply (the first adaptive card attachment). */
export function replyCard(replies: Partial<Activity>[]): Record<string, unknown> {
  for (const r of replies) {
    const card = r.attachments?.find((a) => a.contentType === 'application/vnd.microsoft.card.adaptive');
    if (card) return card.content as Record<string, unknown>;
  }
  throw new Error(`no card in the replies: ${replies.map((r) => r.text ?? r.type).join(' | ')}`);
}

/** The value of the card's invitation link input, or null. */
export function linkOn(card: unknown): string | null {
  let link: string | null = null;
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.type === 'Input.Text' && o.id === 'invitationLink' && typeof o.value === 'string') link = o.value;
      Object.values(o).forEach(walk);
    }
  };
  walk(card);
  return link;
}
