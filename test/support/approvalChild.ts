/**
 * A separate bot process for the approval kill tests: the real approval and invitation services
 * over the shared database file, talking to the Graph-shaped test server through GraphDirectory.
 *
 * MODE=decide   submits APPROVALS requests (Adele asks, Alex approves) and stops at PAUSE_AT:
 *                 beforeLock                  the decision is recorded, the invitation not yet locked
 *                 beforePost                  the record is locked and marked, POST /invitations not sent
 *                 afterPost                   the POST is sent (the parent's server holds its answer)
 *                 afterAnswer                 Graph answered; nothing recorded yet
 *                 beforeMembership            invited and recorded; the group membership not yet added
 *               and prints "paused <n>" as each approval reaches that point. The parent SIGKILLs it.
 * MODE=recover  the restarted bot: recovery every RECOVERY_INTERVAL_MS, as the approvals wiring runs it.
 *
 * Every proactive message is printed as one JSON line: {"sent": conversationId, "text": ...}.
 * Environment: APPROVAL_DB, GRAPH_URL, MODE, PAUSE_AT, APPROVALS, RECOVERY_INTERVAL_MS, HOLDER_TTL_MS.
 */
import type { AccessToken } from '@azure/identity';
import { BotAdapter, TurnContext, type Activity, type ConversationReference, type ResourceResponse } from 'botbuilder';
import { SqliteApprovalRequestRepository } from '../../src/adapters/sqlite/approvalRequests';
import { approvalMigrations } from '../../src/adapters/sqlite/approvalSchema';
import { ApprovalService } from '../../src/usecases/approvals/approvalService';
import type { InvitationExecutor, IntakeDependencies } from '../../src/usecases/approvals/runtime';
import { ApprovalIntake } from '../../src/usecases/approvals/approvalIntake';
import { TeamsApprovalNotifier, teamsApprovalChats } from '../../src/teams/approvals/approvalNotifier';
import { DEMO_APPROVER_GROUP_ID } from '../../src/app/approvalSettings';
import { inMemoryRoster } from '../../src/usecases/approvals/approverRoster';
import { RecoveryLoop } from '../../src/usecases/approvals/recoveryLoop';
import { Notifier, type ProactiveAdapter } from '../../src/teams/bot/proactive';
import type { Directory } from '../../src/usecases/ports/Directory';
import { GraphDirectory } from '../../src/adapters/graph/GraphDirectory';
import { invitationMigrations, SqliteInvitationRepository } from '../../src/adapters/sqlite/invitations';
import { resetRequestMigrations } from '../../src/adapters/sqlite/resetRequests';
import { openStore, sqliteDatabaseOf } from '../../src/adapters/sqlite/store';
import { InviteGuestService } from '../../src/usecases/invite/inviteGuest';
import { SignInAdvisor } from '../../src/usecases/signIn/signInAdvisor';
import { actorOf, personalConversationId, personalReference, textOf, type DemoUser } from '../unit/approvals/testbed';
import { DEMO, demoDirectory } from './directory';

export type PausePoint = 'beforeLock' | 'beforePost' | 'afterPost' | 'afterAnswer' | 'beforeMembership';

/** The guest of approval `i` (one address per approval). */
export const approvalGuest = (i: number): string => `kill.guest${i}@outlook.com`;

const print = (line: unknown): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

/** Records nothing, prints every send and update: the parent counts what reached whom. */
class PrintingWire extends BotAdapter {
  private counter = 0;
  override async sendActivities(context: TurnContext, activities: Partial<Activity>[]): Promise<ResourceResponse[]> {
    return activities.map((a) => {
      const id = `activity-${process.pid}-${++this.counter}`;
      const text = (a.attachments ?? []).map((x) => textOf(x.content)).join('\n') || (typeof a.text === 'string' ? a.text : '');
      print({ sent: context.activity.conversation.id, text });
      return { id };
    });
  }
  override async updateActivity(context: TurnContext): Promise<void> {
    print({ updated: context.activity.conversation.id });
  }
  override async deleteActivity(): Promise<void> {}
  override async continueConversation(): Promise<void> {}
}

class PrintingAdapter implements ProactiveAdapter {
  private readonly wire = new PrintingWire();
  async continueConversationAsync(
    _botAppId: string,
    reference: Partial<ConversationReference>,
    logic: (context: TurnContext) => Promise<void>,
  ): Promise<void> {
    const activity = TurnContext.applyConversationReference({ type: 'event', name: 'continueConversation' }, reference, true);
    await logic(new TurnContext(this.wire, activity));
  }
}

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

/** The directory, stopping for good at `point` (announcing it) once armed. */
function pausing(inner: Directory, point: string | undefined, announce: () => void): Directory {
  return new Proxy(inner, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => Promise<unknown>;
      if (name === 'invite' && point === 'beforePost') {
        return () => {
          announce();
          return never();
        };
      }
      if (name === 'invite' && point === 'afterPost') {
        return (...args: unknown[]) => {
          // The POST goes out; the parent's server holds the answer and the parent kills us.
          void method.apply(target, args).catch(() => undefined);
          return never();
        };
      }
      if (name === 'invite' && point === 'afterAnswer') {
        return async (...args: unknown[]) => {
          await method.apply(target, args);
          announce();
          return never();
        };
      }
      if (name === 'addMembers' && point === 'beforeMembership') {
        return () => {
          announce();
          return never();
        };
      }
      return method.bind(target);
    },
  });
}

async function main(): Promise<void> {
  const file = process.env.APPROVAL_DB;
  const baseUrl = process.env.GRAPH_URL;
  const mode = process.env.MODE;
  if (!file || !baseUrl || !mode) throw new Error('APPROVAL_DB, GRAPH_URL and MODE are required');
  const count = Number(process.env.APPROVALS ?? '1');
  const point = process.env.PAUSE_AT;

  const store = openStore({
    file,
    extraMigrations: [...invitationMigrations, ...resetRequestMigrations, ...approvalMigrations],
    holderTtlMs: Number(process.env.HOLDER_TTL_MS ?? '3000'),
  });
  store.holders.start();
  for (const user of Object.keys(DEMO.users) as DemoUser[]) await store.conversationReferences.upsert(personalReference(user));

  let paused = 0;
  const announce = (): void => {
    paused += 1;
    process.stdout.write(`paused ${paused}\n`);
  };
  const credential = { getToken: async (): Promise<AccessToken> => ({ token: 'child-test-token', expiresOnTimestamp: Date.now() + 3_600_000 }) };
  const graph = new GraphDirectory({ credential, baseUrl, maxRetries: 1, retryDelaySeconds: 0.001, requestTimeoutMs: 60_000 });
  // Submissions and the approvers' rights checks run unpaused; carrying out runs through `carrying`.
  const carrying = mode === 'decide' ? pausing(graph, point, announce) : graph;
  const requests = new SqliteApprovalRequestRepository(sqliteDatabaseOf(store), { audit: store.audit, leases: store.leases });
  const invitations = new SqliteInvitationRepository(sqliteDatabaseOf(store));
  const intakeDeps: IntakeDependencies = {
    requests,
    directory: graph,
    roster: inMemoryRoster(demoDirectory().state),
    chats: teamsApprovalChats(store.conversationReferences),
    notifier: new TeamsApprovalNotifier(new Notifier(new PrintingAdapter(), ''), store.conversationReferences),
    audit: store.audit,
    settings: {
      policy: 'nonOwners',
      partnerDomains: [],
      approverGroupId: DEMO_APPROVER_GROUP_ID,
      ownersMayApprove: false,
      approvalsChannelId: null,
      expiryDays: 14,
      allowRedemptionReset: false,
    },
  };
  const invite = new InviteGuestService({
    directory: carrying,
    advisor: new SignInAdvisor(graph),
    invitations,
    audit: store.audit,
    sendInvitationEmail: false,
    holders: store.holders,
    approvals: new ApprovalIntake(intakeDeps),
  });
  const executor: InvitationExecutor =
    point === 'beforeLock' && mode === 'decide'
      ? {
          execute: () => {
            announce();
            return never();
          },
        }
      : invite;
  const service = new ApprovalService({
    ...intakeDeps,
    invitations: executor,
    inlineBudgetMs: 50,
    leases: store.leases,
    holderId: store.holders.holderId,
  });

  if (mode === 'decide') {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const receipt = await invite.submitForApproval(
        {
          email: approvalGuest(i),
          displayName: `Kill Guest ${i}`,
          groupId: DEMO.groups.projectFalcon.id,
          requestedBy: actorOf('adele'),
          conversationRefKey: personalConversationId('adele'),
          source: 'chat',
        },
        'Needed for the kill test.',
      );
      if (!('requestId' in receipt)) throw new Error(`refused: ${receipt.message}`);
      ids.push(receipt.requestId);
    }
    process.stdout.write('submitted\n');
    await Promise.all(
      ids.map(async (id) => {
        const request = (await requests.get(id));
        if (!request) throw new Error('request vanished');
        await service.decide(actorOf('alex'), id, 'approve', null, request.version);
      }),
    );
    process.stdout.write('decided\n');
    await never();
  }

  // MODE=recover: the restarted bot.
  const loop = new RecoveryLoop(Number(process.env.RECOVERY_INTERVAL_MS ?? '500'));
  loop.start(async () => {
    const resumed = await service.resumeApproved();
    if (resumed > 0) process.stdout.write(`resumed ${resumed}\n`);
  });
  process.stdout.write('recovering\n');
  await never();
}

// Run only as the child process, not when a test imports the names above.
if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
