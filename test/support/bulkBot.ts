/**
 * The bot with the bulk feature on a TestAdapter, acting as demo users, with a recording
 * notifier (progress card updates) and an injectable file download.
 */
import { ActivityTypes, ConversationState, MemoryStorage, TestAdapter, UserState, type Activity, type Attachment, type ConversationReference } from 'botbuilder';
import pino from 'pino';
import type { AdaptiveCard } from '../../src/teams/cards';
import { GuestOnboardingBot } from '../../src/teams/bot/GuestOnboardingBot';
import { RootDialog } from '../../src/teams/bot/RootDialog';
import type { NotifyResult } from '../../src/teams/bot/proactive';
import type { FileDownloadOptions } from '../../src/adapters/files/teamsFileDownload';
import { createBulkFeature, type BulkFeature } from '../../src/teams/bulk/bulkFeature';
import { TeamsBulkNotifier, type ProactiveMessenger } from '../../src/teams/bulk/bulkNotifier';
import type { BulkApprovalGateway, BulkRunnerOptions } from '../../src/usecases/bulk/runnerOptions';
import { BulkJobService } from '../../src/usecases/bulk/bulkJobService';
import type { AuditLog } from '../../src/usecases/ports/auditLog';
import type { BulkSettings } from '../../src/usecases/bulk/ports';
import { downloadTeamsFile } from '../../src/adapters/files/teamsFileDownload';
import type { FakeDirectory } from '../../src/adapters/demo/FakeDirectory';
import type { SqliteDatabase } from '../../src/adapters/sqlite/database';
import { SlidingWindowPacer } from '../../src/usecases/ports/pacer';
import { ResultsLinkSigner } from '../../src/usecases/bulk/resultsLink';
import type { CsvSource } from '../../src/usecases/bulk/parseInvitationCsv';
import { SignInAdvisor } from '../../src/usecases/signIn/signInAdvisor';
import { bulkTestEnv, type BulkTestEnv } from './bulkEnv';
import { DEMO } from './directory';

export type DemoUser = keyof typeof DEMO.users;

export interface RecordedNotice {
  kind: 'send' | 'update';
  activityId?: string;
  card?: Record<string, unknown>;
  text?: string;
}

export class RecordingNotifier implements ProactiveMessenger {
  readonly notices: RecordedNotice[] = [];
  private next = 1;
  async send(_ref: Partial<ConversationReference>, activityOrText: string | Partial<Activity>): Promise<NotifyResult> {
    const activityId = `sent-${this.next++}`;
    if (typeof activityOrText === 'string') this.notices.push({ kind: 'send', activityId, text: activityOrText });
    else this.notices.push({ kind: 'send', activityId, card: activityOrText.attachments?.[0]?.content as Record<string, unknown> });
    return { ok: true, activityId };
  }
  async update(_ref: Partial<ConversationReference>, activityId: string, card: AdaptiveCard | Attachment): Promise<NotifyResult> {
    const content = 'contentType' in card && typeof card.contentType === 'string' ? (card as Attachment).content : card;
    this.notices.push({ kind: 'update', activityId, card: content as Record<string, unknown> });
    return { ok: true, activityId };
  }
}

export interface BulkBot {
  env: BulkTestEnv;
  feature: BulkFeature;
  notifier: RecordingNotifier;
  signer: ResultsLinkSigner;
  downloads: string[];
  say(text: string, options?: { as?: DemoUser; attachments?: Attachment[] }): Promise<Partial<Activity>[]>;
  execute(verb: string, data: Record<string, unknown>, options?: { as?: DemoUser; replyToId?: string }): Promise<Record<string, unknown>>;
}

export function bulkBot(
  options: {
    conversation?: 'personal' | 'groupChat';
    files?: Record<string, CsvSource>;
    approvalPolicy?: 'nonOwners' | 'unlistedDomains' | 'always';
    partnerDomains?: string[];
    ttlMs?: number;
    /** The approvals feature's intake (e.g. the ApprovalService of the approvals testbed). */
    approvalService?: BulkApprovalGateway;
    /** Share a directory and a database with another component (e.g. the approvals testbed). */
    fake?: FakeDirectory;
    db?: SqliteDatabase;
    /** Use the real download (downloadTeamsFile) with these options instead of `files`. */
    fileDownload?: FileDownloadOptions;
  } = {},
): BulkBot {
  const env = bulkTestEnv({ approvalPolicy: options.approvalPolicy, partnerDomains: options.partnerDomains, fake: options.fake, db: options.db });
  const notifier = new RecordingNotifier();
  const signer = new ResultsLinkSigner('a-test-secret-that-is-long-enough-0123456789');
  const downloads: string[] = [];
  const settings: BulkSettings = {
    approvals: { policy: options.approvalPolicy ?? 'nonOwners', partnerDomains: options.partnerDomains ?? [] },
    approverGroupId: DEMO.groups.guestApprovers.id,
    limits: { maxBytes: 1024 * 1024, maxRows: 1000 },
    invitesPer5s: 150,
    sendInvitationEmail: false,
    publicBaseUrl: 'https://bot.contoso.example',
    resultsLinkTtlMs: options.ttlMs ?? 60 * 60_000,
  };
  const fileDownload = options.fileDownload;
  const feature = createBulkFeature({
    jobs: env.jobs,
    queue: env.queue,
    invitations: env.invitations,
    directory: env.directory,
    advisor: new SignInAdvisor(env.fake),
    notifier: new TeamsBulkNotifier(notifier, settings),
    settings,
    signer: async () => signer,
    approvalGateway: options.approvalService ?? null,
    download: fileDownload
      ? (url: string, maxBytes: number) => downloadTeamsFile(url, maxBytes, fileDownload)
      : async (url: string) => {
          downloads.push(url);
          const file = options.files?.[url];
          if (file === undefined) throw new Error(`no test file at ${url}`);
          return file;
        },
    runner: { pacer: new SlidingWindowPacer({ limit: 1000, windowMs: 50 }), baseBackoffMs: 1, maxBackoffMs: 5, progressIntervalMs: 0 },
  });
  const logger = pino({ level: 'silent' });
  const conversationState = new ConversationState(new MemoryStorage());
  const userState = new UserState(new MemoryStorage());
  const bot = new GuestOnboardingBot({ conversationState, userState, rootDialog: new RootDialog([feature]), features: [feature], logger });
  const adapter = new TestAdapter(async (context) => bot.run(context));
  const kind = options.conversation ?? 'personal';

  const base = (as: DemoUser): Partial<Activity> => {
    const user = DEMO.users[as];
    return {
      from: { id: `29:${user.id}`, name: user.displayName, aadObjectId: user.id },
      conversation: {
        id: kind === 'personal' ? `a:personal-${as}` : '19:group@thread.v2',
        isGroup: kind !== 'personal',
        conversationType: kind,
        tenantId: DEMO.tenantId,
        name: '',
      },
      channelId: 'msteams',
      serviceUrl: 'https://smba.trafficmanager.net/emea/',
      channelData: { tenant: { id: DEMO.tenantId } },
    };
  };

  async function turn(activity: Partial<Activity>): Promise<Partial<Activity>[]> {
    await adapter.processActivity(activity);
    const replies: Partial<Activity>[] = [];
    for (;;) {
      const next = adapter.activeQueue.shift();
      if (!next) break;
      replies.push(next);
    }
    return replies;
  }

  return {
    env,
    feature,
    notifier,
    signer,
    downloads,
    say: (text, o = {}) => turn({ ...base(o.as ?? 'megan'), type: ActivityTypes.Message, text, attachments: o.attachments }),
    execute: async (verb, data, o = {}) => {
      const replies = await turn({
        ...base(o.as ?? 'megan'),
        type: ActivityTypes.Invoke,
        name: 'adaptiveCard/action',
        replyToId: o.replyToId ?? 'card-1',
        value: { action: { type: 'Action.Execute', verb, data } },
      });
      const response = replies.find((r) => r.type === 'invokeResponse')?.value as { body?: { value?: Record<string, unknown> } } | undefined;
      return response?.body?.value ?? {};
    },
  };
}

/** Every string in a card or activity list, joined: what a user can read. */
export function textOf(value: unknown): string {
  const parts: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') parts.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return parts.join('\n');
}

/** The jobId carried by a card's actions. */
export function jobIdOf(card: unknown): string {
  const m = /"jobId":"([^"]+)"/.exec(JSON.stringify(card));
  if (!m?.[1]) throw new Error('no jobId in card');
  return m[1];
}

/** Bulk settings for service-level tests: the demo tenant's approvers, 150 invitations per 5 s. */
export const BULK_TEST_SETTINGS: BulkSettings = {
  approvals: { policy: 'nonOwners', partnerDomains: [] },
  approverGroupId: DEMO.groups.guestApprovers.id,
  limits: { maxBytes: 1024 * 1024, maxRows: 1000 },
  invitesPer5s: 150,
  sendInvitationEmail: false,
  publicBaseUrl: 'https://bot.contoso.example',
  resultsLinkTtlMs: 15 * 60_000,
};

/** Megan's personal chat, as a confirmed job's conversation reference. */
export const BULK_TEST_REFERENCE = { conversation: { id: 'a:personal-megan' }, serviceUrl: 'https://smba.trafficmanager.net/emea/' };

/**
 * One instance of the bot's bulk service over `env`'s store (jobs, queue, invitations), its notices
 * recorded: several made over one env are several instances sharing that store.
 */
export function bulkServiceInstance(
  env: BulkTestEnv,
  options: { audit?: AuditLog; runner?: Partial<BulkRunnerOptions> } = {},
): { service: BulkJobService; messenger: RecordingNotifier } {
  const messenger = new RecordingNotifier();
  const service = new BulkJobService({
    jobs: env.jobs,
    queue: env.queue,
    invitations: env.invitations,
    directory: env.directory,
    advisor: new SignInAdvisor(env.fake),
    notifier: new TeamsBulkNotifier(messenger, BULK_TEST_SETTINGS),
    settings: BULK_TEST_SETTINGS,
    signer: async () => new ResultsLinkSigner('a-test-secret-that-is-long-enough-0123456789'),
    ...(options.audit ? { audit: options.audit } : {}),
    runner: { pacer: new SlidingWindowPacer({ limit: 1000, windowMs: 50 }), progressIntervalMs: 0, baseBackoffMs: 1, maxBackoffMs: 5, ...options.runner },
  });
  return { service, messenger };
}
