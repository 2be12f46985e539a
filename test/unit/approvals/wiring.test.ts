/** The approvals feature as the composition root builds it: its start-up work resumes unfinished approvals. */
import { SqliteApprovalRequestRepository } from '../../../src/adapters/sqlite/approvalRequests';
import type { InvitationExecutor } from '../../../src/usecases/approvals/runtime';
import { buildApprovalIntake, buildApprovals, NOTICE_RETRY_MIN_AGE_MS, type ApprovalsPorts, type ApprovalsSettings, type ApprovalsWiring } from '../../../src/app/approvalsWiring';
import { approvalSettingsFromConfig } from '../../../src/app/approvalSettings';
import { directoryRoster } from '../../../src/usecases/approvals/approverRoster';
import { Notifier } from '../../../src/teams/bot/proactive';
import { loadConfig } from '../../../src/app/config';
import { createLogger } from '../../../src/shared/logger';
import type { FakeDirectory } from '../../../src/adapters/demo/FakeDirectory';
import { SqliteInvitationRepository } from '../../../src/adapters/sqlite/invitations';
import { SqliteResetRequestRepository } from '../../../src/adapters/sqlite/resetRequests';
import { openStore, sqliteDatabaseOf, type SqliteStore as Store } from '../../../src/adapters/sqlite/store';
import { InviteGuestService } from '../../../src/usecases/invite/inviteGuest';
import { type InviteOutcome } from '../../../src/usecases/invite/model';
import { SignInAdvisor } from '../../../src/usecases/signIn/signInAdvisor';
import { demoDirectory, fixedClock, type TestClock } from '../../support/directory';
import { tempDatabaseFile } from '../../support/store';
import { APPROVAL_TEST_MIGRATIONS, RecordingAdapter, actorOf, approvalTestbed, personalConversationId, textOf } from './testbed';

/** The approvals feature as the composition root builds it, over the given store. */
function wireApprovals(store: Store, directory: FakeDirectory, clock: TestClock, adapter: RecordingAdapter): ApprovalsWiring {
  const config = loadConfig({});
  const ports: ApprovalsPorts = {
    requests: new SqliteApprovalRequestRepository(sqliteDatabaseOf(store), { audit: store.audit, leases: store.leases }),
    resetRequests: new SqliteResetRequestRepository(sqliteDatabaseOf(store), { now: clock }, store.audit),
    directory,
    roster: directoryRoster(directory),
    conversations: store.conversationReferences,
    sender: new Notifier(adapter, ''),
    audit: store.audit,
    leases: store.leases,
    holderId: store.holders.holderId,
    clock: { now: clock },
    logger: createLogger({ level: 'silent' }),
  };
  const settings: ApprovalsSettings = { approvals: approvalSettingsFromConfig(config), recoveryIntervalMs: config.env.RECOVERY_INTERVAL_MS };
  const inviteService = new InviteGuestService({
    directory,
    advisor: new SignInAdvisor(directory),
    invitations: new SqliteInvitationRepository(sqliteDatabaseOf(store), { clock }),
    audit: store.audit,
    sendInvitationEmail: false,
    clock,
    sleep: async () => undefined,
    approvals: buildApprovalIntake(ports, settings),
  });
  return buildApprovals(ports, settings, inviteService);
}

describe('approvals wiring', () => {
  it('start() carries out an approval the previous process recorded but never finished, and stop() waits for it', async () => {
    const file = tempDatabaseFile();
    const clock = fixedClock();
    const directory = demoDirectory({ clock });
    const stopsBeforeInviting = (): InvitationExecutor => ({ execute: () => new Promise<InviteOutcome>(() => undefined) });
    const before = approvalTestbed({
      store: openStore({ file, extraMigrations: APPROVAL_TEST_MIGRATIONS, clock }),
      directory,
      clock,
      inlineBudgetMs: 20,
      wrapExecutor: stopsBeforeInviting,
    });
    const request = await before.requestInvitation();
    await before.service.decide(actorOf('alex'), request.id, 'approve', null, request.version);
    before.store.close();

    const store = openStore({ file, extraMigrations: APPROVAL_TEST_MIGRATIONS, clock });
    const adapter = new RecordingAdapter();
    const wiring = wireApprovals(store, directory, clock, adapter);

    await wiring.feature.start?.();
    await wiring.feature.stop?.();

    expect(directory.callCount('invite')).toBe(1);
    expect(textOf(adapter.cardsSentTo(personalConversationId('adele'))[0])).toContain('was invited and added to Project Falcon');
    expect((await store.audit.list({ action: 'approval.carriedOut' }))[0]?.details).toMatchObject({ resumed: true, outcome: 'succeeded' });
    store.close();
  });

  it('start() does not wait for the approvals it resumes: the bot answers turns while they are carried out', async () => {
    const file = tempDatabaseFile();
    const clock = fixedClock();
    const directory = demoDirectory({ clock });
    const before = approvalTestbed({
      store: openStore({ file, extraMigrations: APPROVAL_TEST_MIGRATIONS, clock }),
      directory,
      clock,
      inlineBudgetMs: 20,
      wrapExecutor: () => ({ execute: () => new Promise<InviteOutcome>(() => undefined) }),
    });
    const request = await before.requestInvitation();
    await before.service.decide(actorOf('alex'), request.id, 'approve', null, request.version);
    before.store.close();

    // Graph is slow to answer the invitation the restarted process sends.
    let answer: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (answer = resolve));
    const invite = directory.invite.bind(directory);
    directory.invite = async (input) => {
      await gate;
      return invite(input);
    };
    const store = openStore({ file, extraMigrations: APPROVAL_TEST_MIGRATIONS, clock });
    const wiring = wireApprovals(store, directory, clock, new RecordingAdapter());

    await wiring.feature.start?.();
    // start() has returned; the invitation is still waiting for Graph.
    const requests = new SqliteApprovalRequestRepository(sqliteDatabaseOf(store), { audit: store.audit, leases: store.leases });
    expect((await requests.get(request.id))?.outcome).toBeNull();

    answer();
    await wiring.feature.stop?.();
    expect((await requests.get(request.id))?.outcome?.status).toBe('succeeded');
    expect(directory.callCount('invite')).toBe(1);
    store.close();
  });

  it('start() sends again a requester notice that failed a few minutes before the restart', async () => {
    const file = tempDatabaseFile();
    const clock = fixedClock();
    const directory = demoDirectory({ clock });
    const before = approvalTestbed({ store: openStore({ file, extraMigrations: APPROVAL_TEST_MIGRATIONS, clock }), directory, clock });
    const request = await before.requestInvitation();
    before.adapter.failing.set(personalConversationId('adele'), 429);
    await before.service.decide(actorOf('alex'), request.id, 'reject', 'Use the supplier portal.');
    await before.service.whenIdle();
    before.store.close();
    clock.advance(NOTICE_RETRY_MIN_AGE_MS);

    const store = openStore({ file, extraMigrations: APPROVAL_TEST_MIGRATIONS, clock });
    const adapter = new RecordingAdapter();
    const wiring = wireApprovals(store, directory, clock, adapter);
    await wiring.feature.start?.();
    await wiring.feature.stop?.();

    const cards = adapter.cardsSentTo(personalConversationId('adele'));
    expect(cards.length).toBe(1);
    expect(textOf(cards[0])).toContain('Use the supplier portal.');
    store.close();
  });
});
