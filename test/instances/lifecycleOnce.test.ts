/**
 * The guest lifecycle's scheduler on two instances over one Azure Storage account (Azurite): two
 * processes, each running a ScheduledWorkRunner with the lifecycle handlers over the Azure store
 * (test/support/lifecycleChild.ts). Every directory write and every notice of both goes to one
 * shared log, counted here:
 * - work that fell due while both were down (unredeemed reminders, renewal reminders, ends) is
 *   caught up as they start, each reminder sent exactly once, each end carried out once (one
 *   removal from the site's group, the sponsor and the guest told once);
 * - reminders that fall due while both run are sent exactly once too;
 * - both instances took part, and nothing is left due or failed in the store afterwards.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openAzureStore, type AzureStore } from '../../src/adapters/azure/store';
import { fromJsonProperties } from '../../src/adapters/azure/tables';
import { systemClock } from '../../src/domain/clock';
import { DAY_MS, DEFAULT_LIFECYCLE_SETTINGS } from '../../src/domain/lifecycle';
import { createGuestLifecycle, type GuestLifecycle } from '../../src/usecases/lifecycle/guestLifecycle';
import type { LifecycleNotifier } from '../../src/usecases/lifecycle/ports';
import type { ScheduledWork } from '../../src/usecases/ports/scheduler';
import { useAzurite, uniquePrefix } from '../support/azurite';
import { startTsChild, until, type TsChild } from '../support/childProcess';
import { FakeGuestAccounts, FALCON } from '../support/lifecycle';
import type { LifecycleLogLine, LifecycleSeed } from '../support/lifecycleChild';

const azurite = useAzurite();

/** Guests by what is due for them (ids u0…, s0…, r0…, e0…). */
const OVERDUE_UNREDEEMED = 8;
const SOON_UNREDEEMED = 6;
const OVERDUE_RENEWAL = 4;
const OVERDUE_END = 4;
const ids = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const U = ids('u', OVERDUE_UNREDEEMED);
const S = ids('s', SOON_UNREDEEMED);
const R = ids('r', OVERDUE_RENEWAL);
const E = ids('e', OVERDUE_END);

const SEED: LifecycleSeed = {
  sponsors: [
    { id: 'megan', displayName: 'Megan Bowen' },
    { id: 'alex', displayName: 'Alex Wilber' },
  ],
  owners: { [FALCON.groupId]: [{ id: 'alex', displayName: 'Alex Wilber' }] },
  guests: [
    ...[...U, ...S].map((id) => ({ id, displayName: `Guest ${id}`, groups: [FALCON.groupId], state: 'PendingAcceptance' as const })),
    ...[...R, ...E].map((id) => ({ id, displayName: `Guest ${id}`, groups: [FALCON.groupId], state: 'Accepted' as const })),
  ],
};

/** This process never sends: only the two instances do. */
const silent = new Proxy({} as LifecycleNotifier, {
  get: () => () => Promise.reject(new Error('the test process must not send notices')),
});

describe('the guest lifecycle on two instances over one Azure Storage account', () => {
  let folder: string;
  let store: AzureStore;
  let lifecycle: GuestLifecycle;
  const children: TsChild[] = [];

  beforeAll(() => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'gob-lifecycle-once-'));
  });

  afterAll(async () => {
    for (const child of children) {
      child.child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const exited = await Promise.race([child.exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 5000)))]);
      clearTimeout(timer);
      if (!exited) await child.kill();
    }
    await store?.close();
    fs.rmSync(folder, { recursive: true, force: true });
  }, 30_000);

  /** Records a guest's access as an invitation path does, invited `daysAgo` days before now. */
  async function record(userId: string, daysAgo: number, redeemed: boolean): Promise<string> {
    const invitedAt = new Date(Date.now() - daysAgo * DAY_MS).toISOString();
    const result = await lifecycle.recordAccess({
      tenantId: 'contoso',
      ...FALCON,
      guest: { userId, email: `${userId}@fabrikam.com`, displayName: `Guest ${userId}` },
      invitationRecordId: null,
      sponsor: { id: 'megan', name: 'Megan Bowen' },
      redeemed,
      sponsorSetByInvitation: true,
      invitedAt,
      acceptedAt: redeemed ? invitedAt : undefined,
    });
    return result.access.accessId;
  }

  it('sends each due reminder once, carries out each end once, and catches up what fell due while both were down', async () => {
    const prefix = uniquePrefix();
    const seedFile = path.join(folder, 'seed.json');
    const logFile = path.join(folder, 'log.jsonl');
    const goFile = path.join(folder, 'go');
    fs.writeFileSync(seedFile, JSON.stringify(SEED));
    fs.writeFileSync(logFile, '');

    // Before either instance runs: access recorded long enough ago that its work is overdue.
    store = openAzureStore({ account: azurite.account(prefix) });
    const accounts = new FakeGuestAccounts();
    for (const g of SEED.guests) accounts.addGuest(g.id, g.displayName, g.groups, g.state);
    lifecycle = createGuestLifecycle({
      access: store.guestAccess,
      work: store.scheduledWork,
      accounts,
      notifier: silent,
      audit: store.audit,
      clock: systemClock,
      settings: DEFAULT_LIFECYCLE_SETTINGS,
      approvals: null,
    });
    const access = new Map<string, string>();
    // Invited ten days ago, never redeemed: the 7-day reminder is three days overdue.
    for (const id of U) access.set(id, await record(id, 10, false));
    // Accepted, ending in ten days: the 14-days-before reminder is four days overdue.
    for (const id of R) access.set(id, await record(id, DEFAULT_LIFECYCLE_SETTINGS.accessDays! - 10, true));
    // Accepted, access ended a day ago: the end is overdue.
    for (const id of E) access.set(id, await record(id, DEFAULT_LIFECYCLE_SETTINGS.accessDays! + 1, true));
    const overdue = await store.scheduledWork.list({ dueBefore: new Date().toISOString(), limit: 1000 });
    expect(overdue.filter((w) => w.kind === 'lifecycle.unredeemedReminder')).toHaveLength(U.length);
    expect(overdue.filter((w) => w.kind === 'lifecycle.endOfAccess')).toHaveLength(E.length);

    const env = {
      AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
      AZURE_STORAGE_PREFIX: prefix,
      SEED_FILE: seedFile,
      LOG_FILE: logFile,
      GO_FILE: goFile,
      INTERVAL_MS: '500',
      SEND_MS: '20',
    };
    children.push(startTsChild('test/support/lifecycleChild.ts', env), startTsChild('test/support/lifecycleChild.ts', env));
    const failed = (): string =>
      children.map((c, i) => `instance ${i}${c.child.exitCode === null ? '' : ` (exited ${c.child.exitCode})`}: ${c.output().slice(-2000)}`).join('\n');
    /** An instance that stopped can no longer do its share: fail at once, saying so, rather than time out. */
    const running = (): boolean => {
      const gone = children.findIndex((c) => c.child.exitCode !== null || c.child.signalCode !== null);
      if (gone >= 0) throw new Error(`instance ${gone} exited while the test waited\n${failed()}`);
      return true;
    };
    await until(() => children.every((c) => c.lines().includes('ready')), 40_000, () => `both instances ready\n${failed()}`);
    fs.writeFileSync(goFile, 'go');
    await until(() => children.every((c) => c.lines().includes('started')), 10_000, () => `both runners started\n${failed()}`);

    // While both run: invitations whose 7-day reminder falls due in three seconds.
    for (const id of S) access.set(id, await record(id, 7 - 3_000 / DAY_MS, false));

    const lines = (): LifecycleLogLine[] =>
      fs
        .readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as LifecycleLogLine);
    const notices = (type: keyof LifecycleNotifier): Array<Extract<LifecycleLogLine, { notice: string }>> =>
      lines().filter((l): l is Extract<LifecycleLogLine, { notice: string }> => 'notice' in l && l.notice === type);
    const writes = (): string[] => lines().flatMap((l) => ('write' in l ? [l.write] : []));
    const count = <T>(items: T[]): Map<T, number> => items.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<T, number>());
    const expectedUnredeemed = U.length + S.length;
    /** The scheduled-work table as it is (every row: item, due index, subject index), for a failure's message. */
    const tableState = async (): Promise<string> => {
      const table = await store.account.table('ScheduledWork');
      const out: string[] = [];
      for await (const row of table.listEntities<Record<string, unknown>>()) {
        const w = fromJsonProperties<ScheduledWork>(row);
        out.push(`${row.rowKey} ${JSON.stringify({ dueAt: w.dueAt, claimedBy: w.claimedBy, claimedUntil: w.claimedUntil, attempts: w.attempts, version: w.version, lastError: w.lastError })}`);
      }
      return out.join('\n');
    };
    try {
      await until(
        () =>
          running() &&
          notices('unredeemedReminder').length >= expectedUnredeemed &&
          notices('renewalReminder').filter((n) => R.some((id) => n.accessId === access.get(id))).length >= R.length &&
          notices('accessEnded').length >= E.length &&
          notices('guestAccessEnded').length >= E.length,
        // About 20 s on an idle machine; generous for a loaded one.
        90_000,
        () => `every notice (have ${JSON.stringify([...count(lines().map((l) => ('write' in l ? l.write.split(':')[0] : l.notice)))])})\n${failed()}`,
      );
    } catch (error) {
      const ids = [...access].map(([id, a]) => `${id}=${a}`).join(' ');
      throw new Error(`${(error as Error).message}\naccess ids: ${ids}\nscheduled work:\n${await tableState()}`);
    }
    // Four more passes of each runner: a second send or removal would show now.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    running();

    const unredeemed = count(notices('unredeemedReminder').map((n) => n.accessId));
    expect([...U, ...S].map((id) => unredeemed.get(access.get(id)!) ?? 0)).toEqual([...U, ...S].map(() => 1));
    expect(notices('unredeemedReminder').every((n) => n.to === 'megan')).toBe(true);
    const renewals = count(notices('renewalReminder').map((n) => n.accessId));
    expect(R.map((id) => renewals.get(access.get(id)!) ?? 0)).toEqual(R.map(() => 1));
    const removals = count(writes().filter((w) => w.startsWith('removeFromGroup:')));
    expect(E.map((id) => removals.get(`removeFromGroup:${FALCON.groupId}:${id}`) ?? 0)).toEqual(E.map(() => 1));
    expect(removals.size).toBe(E.length);
    const ended = count(notices('accessEnded').map((n) => n.accessId));
    expect(E.map((id) => ended.get(access.get(id)!) ?? 0)).toEqual(E.map(() => 1));
    expect(count(notices('guestAccessEnded').map((n) => n.to))).toEqual(new Map(E.map((id) => [id, 1])));
    // Nothing at all twice: no notice to one person about one access and one occasion, no directory write.
    const keys = lines().map((l) => ('write' in l ? l.write : `${l.notice}|${l.to}|${l.accessId}|${l.detail}`));
    expect([...count(keys)].filter(([, n]) => n > 1)).toEqual([]);
    // Both instances acted (else one instance alone would pass this test).
    expect(new Set(lines().map((l) => l.pid)).size).toBe(2);
    // Nothing stuck: no work left due, none failed.
    const left = await store.scheduledWork.list({ limit: 1000 });
    expect(left.filter((w) => Date.parse(w.dueAt) <= Date.now())).toEqual([]);
    expect(left.filter((w) => w.attempts > 0 || w.lastError !== null)).toEqual([]);
    for (const id of E) expect((await store.guestAccess.get(access.get(id)!))?.state).toBe('ended');
  }, 180_000);
});
