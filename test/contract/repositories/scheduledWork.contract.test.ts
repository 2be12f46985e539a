/** Durable scheduled work: the same rules over SQLite, memory and Azure Table storage (usecases/ports/scheduler.ts). */
import { openDatabase } from '../../../src/adapters/sqlite/database';
import { leaseMigrations, SqliteHolderRegistry } from '../../../src/adapters/sqlite/leases';
import { scheduledWorkMigrations, SqliteScheduledWorkRepository } from '../../../src/adapters/sqlite/scheduledWork';
import { MemoryHolderRegistry, MemoryHolderTable } from '../../../src/adapters/memory/leases';
import { MemoryScheduledWorkRepository } from '../../../src/adapters/memory/scheduledWork';
import { AzureHolderRegistry } from '../../../src/adapters/azure/leases';
import { AzureScheduledWorkRepository } from '../../../src/adapters/azure/scheduledWork';
import type { ScheduledWorkRepository } from '../../../src/usecases/ports/scheduler';
import { useAzurite } from '../../support/azurite';
import { manualClock, type ManualClock } from '../../support/store';

const azurite = useAzurite();

interface Holder {
  holderId: string;
  beat(): void | Promise<void>;
  stop(): void | Promise<void>;
}

interface Fixture {
  work: ScheduledWorkRepository;
  /** This process. */
  me: Holder;
  /** Another instance sharing the store, with a heartbeat of ttlMs. */
  other(ttlMs: number): Holder;
}

type Make = (clock: ManualClock) => Fixture | Promise<Fixture>;

const makeSqlite: Make = (clock) => {
  const db = openDatabase(':memory:', [...leaseMigrations, ...scheduledWorkMigrations]);
  const me = new SqliteHolderRegistry(db, { ttlMs: 1000, clock });
  me.beat();
  return {
    me,
    work: new SqliteScheduledWorkRepository(db, me, { clock }),
    other: (ttlMs) => new SqliteHolderRegistry(db, { ttlMs, clock, host: 'other-host', pid: 4242 }),
  };
};

const makeMemory: Make = (clock) => {
  const table = new MemoryHolderTable();
  const me = new MemoryHolderRegistry(table, { ttlMs: 1000, clock });
  me.beat();
  return {
    me,
    work: new MemoryScheduledWorkRepository(me, { clock }),
    other: (ttlMs) => new MemoryHolderRegistry(table, { ttlMs, clock }),
  };
};

const makeAzure: Make = async (clock) => {
  // Every registry on one account: instances of the bot on other machines sharing the storage.
  const account = azurite.account();
  const me = new AzureHolderRegistry(account, { ttlMs: 1000, clock });
  await me.beat();
  return {
    me,
    work: new AzureScheduledWorkRepository(account, me, { clock }),
    other: (ttlMs) => new AzureHolderRegistry(account, { ttlMs, clock, host: 'other-host', pid: 4242 }),
  };
};

const HOUR = 60 * 60_000;
const DAY = 24 * HOUR;
/** The one item a claim returned (fails the test otherwise). */
function one<T>(items: T[]): T {
  expect(items).toHaveLength(1);
  return items[0] as T;
}

const claim = { leaseMs: 5 * 60_000, limit: 10 };

describe.each([
  ['sqlite', makeSqlite],
  ['memory', makeMemory],
  ['azure', makeAzure],
])('ScheduledWorkRepository contract (%s)', (_name, make) => {
  it('scheduling the same kind and subject twice keeps one record; replace moves it', async () => {
    const clock = manualClock('2025-03-01T09:00:00.000Z');
    const { work } = await make(clock);
    const first = await work.schedule({ kind: 'reminder', subject: 'g1', dueAt: '2025-03-08T09:00:00.000Z', payload: { n: 1 } });
    expect(first.created).toBe(true);
    expect(first.work).toMatchObject({ kind: 'reminder', subject: 'g1', dueAt: '2025-03-08T09:00:00.000Z', payload: { n: 1 }, attempts: 0, claimedBy: null });

    const again = await work.schedule({ kind: 'reminder', subject: 'g1', dueAt: '2025-03-20T09:00:00.000Z', payload: { n: 2 } });
    expect(again.created).toBe(false);
    expect(again.work.dueAt).toBe('2025-03-08T09:00:00.000Z');
    expect(await work.list()).toHaveLength(1);

    const moved = await work.schedule({ kind: 'reminder', subject: 'g1', dueAt: '2025-03-20T09:00:00.000Z', payload: { n: 2 } }, { replace: true });
    expect(moved.created).toBe(true);
    expect(moved.work).toMatchObject({ dueAt: '2025-03-20T09:00:00.000Z', payload: { n: 2 } });
    expect(moved.work.version).toBeGreaterThan(first.work.version);
    expect(await work.list()).toHaveLength(1);

    // Concurrent schedules of one pair: one record, one created.
    const racing = await Promise.all([1, 2, 3, 4].map(() => work.schedule({ kind: 'end', subject: 'g1', dueAt: '2025-09-01T00:00:00.000Z' })));
    expect(racing.filter((r) => r.created)).toHaveLength(1);
    expect(await work.get('end', 'g1')).not.toBeNull();
  });

  it('scheduleNew creates the new items at once and keeps the ones that exist, in input order', async () => {
    const clock = manualClock('2025-03-01T09:00:00.000Z');
    const { work, me } = await make(clock);
    const fresh = await work.scheduleNew([
      { kind: 'reminder', subject: 'g1', dueAt: '2025-03-02T09:00:00.000Z', payload: { n: 1 } },
      { kind: 'end', subject: 'g1', dueAt: '2025-09-01T09:00:00.000Z' },
    ]);
    expect(fresh.map((r) => [r.work.kind, r.created])).toEqual([['reminder', true], ['end', true]]);
    expect((await work.listBySubject('g1')).map((w) => [w.kind, w.dueAt, w.payload])).toEqual([
      ['reminder', '2025-03-02T09:00:00.000Z', { n: 1 }],
      ['end', '2025-09-01T09:00:00.000Z', {}],
    ]);
    // One exists already: it is kept as it was, the others are created all the same.
    const mixed = await work.scheduleNew([
      { kind: 'other', subject: 'g2', dueAt: '2025-03-03T09:00:00.000Z' },
      { kind: 'reminder', subject: 'g1', dueAt: '2025-04-01T09:00:00.000Z', payload: { n: 2 } },
      { kind: 'end', subject: 'g2', dueAt: '2025-09-02T09:00:00.000Z' },
    ]);
    expect(mixed.map((r) => [r.work.subject, r.work.kind, r.created, r.work.dueAt])).toEqual([
      ['g2', 'other', true, '2025-03-03T09:00:00.000Z'],
      ['g1', 'reminder', false, '2025-03-02T09:00:00.000Z'],
      ['g2', 'end', true, '2025-09-02T09:00:00.000Z'],
    ]);
    expect(await work.list()).toHaveLength(4);
    // Created work is due work like any other: claimed when its time comes, once.
    clock.advance(24 * 60 * 60_000);
    expect((await work.claimDue(me.holderId, claim)).map((w) => w.subject)).toEqual(['g1']);
    // More than one transaction's worth (Table storage takes 100 operations, three rows an item).
    const many = Array.from({ length: 40 }, (_, i) => ({ kind: 'bulk', subject: `s${i}`, dueAt: '2025-05-01T09:00:00.000Z' }));
    expect((await work.scheduleNew(many)).every((r) => r.created)).toBe(true);
    expect(await work.list({ limit: 1000 })).toHaveLength(44);
    expect(await work.scheduleNew([])).toEqual([]);
  });

  it('scheduleNew refuses a batch with a malformed item or the same pair twice, and writes nothing', async () => {
    const { work } = await make(manualClock());
    await expect(
      work.scheduleNew([
        { kind: 'k', subject: 's', dueAt: '2025-03-08T09:00:00.000Z' },
        { kind: 'k', subject: 's', dueAt: '2025-03-09T09:00:00.000Z' },
      ]),
    ).rejects.toThrow(/twice/);
    await expect(
      work.scheduleNew([
        { kind: 'k', subject: 's', dueAt: '2025-03-08T09:00:00.000Z' },
        { kind: 'k', subject: 't', dueAt: 'soon' },
      ]),
    ).rejects.toThrow(/dueAt/);
    expect(await work.list()).toEqual([]);
  });

  it('refuses malformed work and writes nothing', async () => {
    const { work } = await make(manualClock());
    await expect(work.schedule({ kind: '', subject: 'g1', dueAt: '2025-03-08T09:00:00.000Z' })).rejects.toThrow(/kind/);
    await expect(work.schedule({ kind: 'k', subject: ' ', dueAt: '2025-03-08T09:00:00.000Z' })).rejects.toThrow(/subject/);
    await expect(work.schedule({ kind: 'k', subject: 's', dueAt: 'next tuesday' })).rejects.toThrow(/dueAt/);
    expect(await work.list()).toEqual([]);
    expect(await work.get('k', 's')).toBeNull();
  });

  it('is visible by subject and in order, soonest first', async () => {
    const { work } = await make(manualClock());
    await work.schedule({ kind: 'end', subject: 'jane', dueAt: '2025-09-01T00:00:00.000Z' });
    await work.schedule({ kind: 'renewal', subject: 'jane', dueAt: '2025-08-18T00:00:00.000Z' });
    await work.schedule({ kind: 'reminder', subject: 'bob', dueAt: '2025-03-02T00:00:00.000Z' });
    expect((await work.listBySubject('jane')).map((w) => w.kind)).toEqual(['renewal', 'end']);
    expect(await work.listBySubject('nobody')).toEqual([]);
    expect((await work.list()).map((w) => `${w.kind}:${w.subject}`)).toEqual(['reminder:bob', 'renewal:jane', 'end:jane']);
    expect((await work.list({ limit: 2 })).map((w) => w.subject)).toEqual(['bob', 'jane']);
    expect((await work.list({ dueBefore: '2025-08-18T00:00:00.000Z' })).map((w) => w.kind)).toEqual(['reminder']);
  });

  it('claims only what is due, and of two claimers exactly one gets each item', async () => {
    const clock = manualClock('2025-03-01T09:00:00.000Z');
    const { work, me, other } = await make(clock);
    const them = other(10_000);
    await them.beat();
    await work.schedule({ kind: 'reminder', subject: 'g1', dueAt: '2025-03-01T10:00:00.000Z' });
    expect(await work.claimDue(me.holderId, claim)).toEqual([]);

    clock.advance(HOUR);
    // Both alive now (an hour on, the first heartbeat has long run out): whichever wins keeps it.
    await them.beat();
    const [mine, theirs] = await Promise.all([work.claimDue(me.holderId, claim), work.claimDue(them.holderId, claim)]);
    expect(mine.length + theirs.length).toBe(1);
    const winner = mine.length ? me.holderId : them.holderId;
    const loser = mine.length ? them.holderId : me.holderId;
    expect((await work.get('reminder', 'g1'))?.claimedBy).toBe(winner);
    // While the claim holds, nobody else takes it.
    expect(await work.claimDue(loser, claim)).toEqual([]);
  });

  it('of five claimers racing over twenty due items, each item is claimed exactly once', async () => {
    const clock = manualClock('2025-03-01T09:00:00.000Z');
    const { work, me, other } = await make(clock);
    const others = [1, 2, 3, 4].map(() => other(10 * 60_000));
    for (const h of others) await h.beat();
    for (let i = 0; i < 20; i++) await work.schedule({ kind: 'reminder', subject: `g${String(i).padStart(2, '0')}`, dueAt: '2025-03-01T09:00:00.000Z' });
    const holders = [me, ...others];
    const taken = new Map<string, string[]>();
    // Each claimer keeps claiming until nothing is left for it, as several runners would.
    await Promise.all(
      holders.map(async (h) => {
        for (;;) {
          const got = await work.claimDue(h.holderId, { leaseMs: 60_000, limit: 3 });
          if (got.length === 0) return;
          for (const w of got) taken.set(w.subject, [...(taken.get(w.subject) ?? []), h.holderId]);
        }
      }),
    );
    expect(taken.size).toBe(20);
    expect([...taken.values()].filter((by) => by.length !== 1)).toEqual([]);
    for (const [subject, [by]] of taken) expect((await work.get('reminder', subject))?.claimedBy).toBe(by);
  });

  it('catches up after downtime: everything past due runs once, oldest first', async () => {
    const clock = manualClock('2025-03-01T09:00:00.000Z');
    const { work, me } = await make(clock);
    for (const [subject, days] of [['c', 3], ['a', 1], ['b', 2], ['later', 30]] as const) {
      await work.schedule({ kind: 'reminder', subject, dueAt: new Date(Date.parse('2025-03-01T09:00:00.000Z') + days * DAY).toISOString() });
    }
    clock.advance(10 * DAY); // the bot was down for ten days
    const due = await work.claimDue(me.holderId, claim);
    expect(due.map((w) => w.subject)).toEqual(['a', 'b', 'c']);
    for (const w of due) expect(await work.settle(w.kind, w.subject, me.holderId, w.version, { outcome: 'done' })).toBe(true);
    expect(await work.claimDue(me.holderId, claim)).toEqual([]);
    expect((await work.list()).map((w) => w.subject)).toEqual(['later']);
  });

  it('honours the claim limit, leaving the rest for the next claim', async () => {
    const clock = manualClock();
    const { work, me } = await make(clock);
    for (const s of ['a', 'b', 'c']) await work.schedule({ kind: 'k', subject: s, dueAt: clock.now().toISOString() });
    expect((await work.claimDue(me.holderId, { leaseMs: 60_000, limit: 2 })).map((w) => w.subject)).toEqual(['a', 'b']);
    expect((await work.claimDue(me.holderId, { leaseMs: 60_000, limit: 2 })).map((w) => w.subject)).toEqual(['c']);
  });

  it('work claimed by a holder that died is claimable again at once; a live claim only after it runs out', async () => {
    const clock = manualClock('2025-03-01T09:00:00.000Z');
    const { work, me, other } = await make(clock);
    const crashed = other(1000);
    await crashed.beat();
    await work.schedule({ kind: 'end', subject: 'g1', dueAt: '2025-03-01T09:00:00.000Z' });
    const held = one(await work.claimDue(crashed.holderId, { leaseMs: 60 * 60_000, limit: 1 }));
    expect(held.claimedBy).toBe(crashed.holderId);
    expect(await work.claimDue(me.holderId, claim)).toEqual([]);
    // Its heartbeat stops: dead after its ttl, long before the hour-long claim runs out.
    clock.advance(2000);
    const retaken = one(await work.claimDue(me.holderId, claim));
    expect(retaken).toMatchObject({ subject: 'g1', claimedBy: me.holderId });
    // The dead holder's late settle changes nothing.
    expect(await work.settle('end', 'g1', crashed.holderId, held.version, { outcome: 'done' })).toBe(false);
    expect((await work.get('end', 'g1'))?.claimedBy).toBe(me.holderId);

    // A live holder's claim is free once its time runs out.
    const alive = other(10 * 60 * 60_000);
    await alive.beat();
    await work.schedule({ kind: 'end', subject: 'g2', dueAt: clock.now().toISOString() });
    await work.claimDue(alive.holderId, { leaseMs: 60_000, limit: 5 });
    expect(await work.claimDue(me.holderId, claim)).toEqual([]);
    clock.advance(61_000);
    expect((await work.claimDue(me.holderId, claim)).map((w) => w.subject)).toEqual(['g2']);
  });

  it('a failed run is retried at the backoff time, with attempts counted and the reason kept', async () => {
    const clock = manualClock('2025-03-01T09:00:00.000Z');
    const { work, me } = await make(clock);
    await work.schedule({ kind: 'end', subject: 'g1', dueAt: '2025-03-01T09:00:00.000Z', payload: { p: 1 } });
    const first = one(await work.claimDue(me.holderId, claim));
    expect(await work.settle('end', 'g1', me.holderId, first.version, { outcome: 'retry', dueAt: '2025-03-01T09:01:00.000Z', error: 'Graph was busy' })).toBe(true);
    expect(await work.get('end', 'g1')).toMatchObject({ attempts: 1, lastError: 'Graph was busy', claimedBy: null, dueAt: '2025-03-01T09:01:00.000Z', payload: { p: 1 } });
    expect(await work.claimDue(me.holderId, claim)).toEqual([]);
    clock.advance(60_000);
    const second = one(await work.claimDue(me.holderId, claim));
    expect(second.attempts).toBe(1);
    await work.settle('end', 'g1', me.holderId, second.version, { outcome: 'retry', dueAt: '2025-03-01T09:03:00.000Z', error: 'again' });
    expect((await work.get('end', 'g1'))?.attempts).toBe(2);
    // A settle with a stale version (a replay) is refused.
    expect(await work.settle('end', 'g1', me.holderId, second.version, { outcome: 'done' })).toBe(false);
    expect(await work.get('end', 'g1')).not.toBeNull();
  });

  it('reschedule moves claimed work to its next time with a new payload, attempts starting over', async () => {
    const clock = manualClock('2025-03-01T09:00:00.000Z');
    const { work, me } = await make(clock);
    await work.schedule({ kind: 'renewal', subject: 'g1', dueAt: '2025-03-01T09:00:00.000Z', payload: { daysBefore: 14 } });
    const a = one(await work.claimDue(me.holderId, claim));
    await work.settle('renewal', 'g1', me.holderId, a.version, { outcome: 'retry', dueAt: '2025-03-01T09:00:00.000Z', error: 'x' });
    const b = one(await work.claimDue(me.holderId, claim));
    expect(await work.settle('renewal', 'g1', me.holderId, b.version, { outcome: 'reschedule', dueAt: '2025-03-14T09:00:00.000Z', payload: { daysBefore: 1 } })).toBe(true);
    expect(await work.get('renewal', 'g1')).toMatchObject({ dueAt: '2025-03-14T09:00:00.000Z', payload: { daysBefore: 1 }, attempts: 0, lastError: null, claimedBy: null });
  });

  it('work rescheduled while it runs keeps its new time: the runner\'s settle only drops its claim', async () => {
    const clock = manualClock('2025-03-01T09:00:00.000Z');
    const { work, me } = await make(clock);
    await work.schedule({ kind: 'end', subject: 'g1', dueAt: '2025-03-01T09:00:00.000Z' });
    const running = one(await work.claimDue(me.holderId, claim));
    // Renewed meanwhile: the end moves six months on.
    await work.schedule({ kind: 'end', subject: 'g1', dueAt: '2025-09-01T09:00:00.000Z' }, { replace: true });
    expect(await work.settle('end', 'g1', me.holderId, running.version, { outcome: 'done' })).toBe(false);
    expect(await work.get('end', 'g1')).toMatchObject({ dueAt: '2025-09-01T09:00:00.000Z', claimedBy: null });
  });

  it('cancel removes scheduled or claimed work; a settle after it is refused', async () => {
    const clock = manualClock();
    const { work, me } = await make(clock);
    await work.schedule({ kind: 'end', subject: 'g1', dueAt: clock.now().toISOString() });
    const running = one(await work.claimDue(me.holderId, claim));
    expect(await work.cancel('end', 'g1')).toBe(true);
    expect(await work.cancel('end', 'g1')).toBe(false);
    expect(await work.settle('end', 'g1', me.holderId, running.version, { outcome: 'retry', dueAt: clock.now().toISOString(), error: 'x' })).toBe(false);
    expect(await work.get('end', 'g1')).toBeNull();
  });
});
