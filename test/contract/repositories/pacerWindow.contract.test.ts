/** The shared pacer window: the same slots and waits over SQLite and memory. */
import { openDatabase } from '../../../src/adapters/sqlite/database';
import { pacerWindowMigrations, SqlitePacerWindowStore } from '../../../src/adapters/sqlite/pacerWindow';
import { MemoryPacerWindowStore } from '../../../src/adapters/memory/pacerWindow';
import type { PacerWindowStore } from '../../../src/usecases/ports/pacerWindow';
import { AzurePacerWindowStore } from '../../../src/adapters/azure/pacerWindow';
import { useAzurite } from '../../support/azurite';

const azurite = useAzurite();

type Make = () => PacerWindowStore;
/** Two stores over one window, as two processes see it. */
type MakeTwo = () => [PacerWindowStore, PacerWindowStore];

const makeSqlite: Make = () => new SqlitePacerWindowStore(openDatabase(':memory:', pacerWindowMigrations));
const makeMemory: Make = () => new MemoryPacerWindowStore();
const makeAzure: Make = () => new AzurePacerWindowStore(azurite.account());
const twoSqlite: MakeTwo = () => {
  const db = openDatabase(':memory:', pacerWindowMigrations);
  return [new SqlitePacerWindowStore(db), new SqlitePacerWindowStore(db)];
};
const twoMemory: MakeTwo = () => {
  const one = new MemoryPacerWindowStore();
  return [one, one];
};
const twoAzure: MakeTwo = () => {
  const prefix = azurite.account().prefix;
  return [new AzurePacerWindowStore(azurite.account(prefix)), new AzurePacerWindowStore(azurite.account(prefix))];
};

/** A clock read through `at`, moving on 100 ms at every reading (as it does while a store round trip goes on). */
function movingClock(from: number): { at: () => number; last: () => number; readings: () => number } {
  let t = from;
  let readings = 0;
  return {
    at: () => {
      readings++;
      t += 100;
      return t;
    },
    last: () => t,
    readings: () => readings,
  };
}

describe.each([
  ['sqlite', makeSqlite, twoSqlite],
  ['memory', makeMemory, twoMemory],
  ['azure', makeAzure, twoAzure],
])('PacerWindowStore contract (%s)', (name, make, makeTwo) => {
  it('lets `limit` starts into a window, then says how long until the oldest leaves it', async () => {
    const window = make();
    expect(await window.tryStart('invitations', 3, 1000, () => 10_000)).toBe(0);
    expect(await window.tryStart('invitations', 3, 1000, () => 10_100)).toBe(0);
    expect(await window.tryStart('invitations', 3, 1000, () => 10_200)).toBe(0);
    expect(await window.tryStart('invitations', 3, 1000, () => 10_300)).toBe(700);
    expect(await window.countSince('invitations', 10_300 - 1000)).toBe(3);
    // A refused start is not recorded; once the oldest left the window, one more starts.
    expect(await window.tryStart('invitations', 3, 1000, () => 11_000)).toBe(0);
    expect(await window.countSince('invitations', 11_000 - 1000)).toBe(3);
  });

  it('records several starts in one call, as many as the window has room for, then says how long to wait', async () => {
    const window = make();
    expect(await window.tryStartSome('invitations', 5, 1000, () => 10_000, 3)).toEqual({ started: 3, waitMs: 0 });
    // Room for two more: two of the four asked for are recorded.
    expect(await window.tryStartSome('invitations', 5, 1000, () => 10_100, 4)).toEqual({ started: 2, waitMs: 0 });
    expect(await window.countSince('invitations', 10_100 - 1000)).toBe(5);
    // Full: the three at 10,000 leave it at 11,000.
    expect(await window.tryStartSome('invitations', 5, 1000, () => 10_200, 2)).toEqual({ started: 0, waitMs: 800 });
    expect(await window.tryStartSome('invitations', 5, 1000, () => 11_000, 9)).toEqual({ started: 3, waitMs: 0 });
    expect(await window.countSince('invitations', 11_000 - 1000)).toBe(5);
  });

  it('several starts from two processes at once never exceed the limit together', async () => {
    const [a, b] = makeTwo();
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).tryStartSome('burst', 10, 60_000, () => 1000, 3)));
    expect(answers.reduce((n, x) => n + x.started, 0)).toBe(10);
    expect(await a.countSince('burst', 0)).toBe(10);
  });

  it('keeps windows apart by name', async () => {
    const window = make();
    expect(await window.tryStart('a', 1, 1000, () => 0)).toBe(0);
    expect(await window.tryStart('b', 1, 1000, () => 0)).toBe(0);
    expect(await window.tryStart('a', 1, 1000, () => 10)).toBe(990);
    expect(await window.countSince('never', -1)).toBe(0);
  });

  it('a hold-off stops every start until it ends, and a shorter one never shortens it', async () => {
    const window = make();
    await window.holdOff('invitations', 5000);
    await window.holdOff('invitations', 3000);
    expect(await window.tryStart('invitations', 100, 1000, () => 1000)).toBe(4000);
    expect(await window.countSince('invitations', 0)).toBe(0);
    expect(await window.tryStart('invitations', 100, 1000, () => 5000)).toBe(0);
    await window.holdOff('invitations', 7000);
    expect(await window.tryStart('invitations', 100, 1000, () => 6000)).toBe(1000);
  });

  it('concurrent starts never exceed the limit', async () => {
    const window = make();
    const waits = await Promise.all(Array.from({ length: 20 }, () => window.tryStart('invitations', 5, 1000, () => 50_000)));
    expect(waits.filter((w) => w === 0)).toHaveLength(5);
    expect(waits.filter((w) => w > 0).every((w) => w === 1000)).toBe(true);
  });

  it('records a start at the time read when it was decided, not earlier', async () => {
    const window = make();
    const clock = movingClock(20_000);
    expect(await window.tryStart('invitations', 5, 1000, clock.at)).toBe(0);
    expect(await window.countSince('invitations', clock.last() - 1)).toBe(1);
    expect(await window.countSince('invitations', clock.last())).toBe(0);
  });

  it('a start decided again after another process started first is recorded at the later reading', async () => {
    const [one, two] = makeTwo();
    // Both have seen the window (an instance keeps the copy it read or wrote).
    expect(await one.tryStart('invitations', 5, 1000, () => 10_000)).toBe(0);
    expect(await two.tryStart('invitations', 5, 1000, () => 10_050)).toBe(0);
    // `one` still holds the window as it wrote it: its start is refused by the store and decided anew.
    const clock = movingClock(10_100);
    expect(await one.tryStart('invitations', 5, 1000, clock.at)).toBe(0);
    expect(await one.countSince('invitations', 9_999)).toBe(3);
    // Azure's write was refused (`one`'s copy was stale) and the start decided anew, with a fresh
    // reading; SQLite and memory decide once, under their lock.
    expect(clock.readings()).toBe(name === 'azure' ? 2 : 1);
    // Recorded at the last reading, whichever attempt succeeded.
    expect(await two.countSince('invitations', clock.last() - 1)).toBe(1);
    expect(await two.countSince('invitations', clock.last())).toBe(0);
  });

  it('a start moved to when it really went is counted from then: the window frees later, and no more is counted', async () => {
    const [one, two] = makeTwo();
    expect(await one.tryStart('invitations', 2, 1000, () => 10_000)).toBe(0);
    expect(await two.tryStart('invitations', 2, 1000, () => 10_100)).toBe(0);
    // The first went out 300 ms late; another process (a stale copy in Azure's case) moves it.
    await one.moveStart('invitations', 10_000, 10_300);
    expect(await two.countSince('invitations', 10_299)).toBe(1);
    expect(await two.countSince('invitations', 0)).toBe(2);
    // Full until a window after the *earlier* of the two: 10,100.
    expect(await two.tryStart('invitations', 2, 1000, () => 11_050)).toBe(50);
    expect(await two.tryStart('invitations', 2, 1000, () => 11_100)).toBe(0);
    // Then a window after the moved one (10,300), not after 10,000.
    expect(await one.tryStart('invitations', 2, 1000, () => 11_200)).toBe(100);
    expect(await one.tryStart('invitations', 2, 1000, () => 11_300)).toBe(0);
    // A start no longer recorded (left the window) is not moved into it.
    await two.moveStart('invitations', 5_000, 11_350);
    expect(await two.countSince('invitations', 11_000)).toBe(2);
  });

  it('two processes starting in turn never exceed the limit between them, judged at each reading', async () => {
    const [one, two] = makeTwo();
    let t = 0;
    const starts: number[] = [];
    for (let i = 0; i < 12; i++) {
      const window = i % 2 === 0 ? one : two;
      let at = 0;
      const wait = await window.tryStart('invitations', 4, 1000, () => {
        at = t;
        t += 25; // the clock moves on while the store is asked
        return at;
      });
      if (wait === 0) starts.push(at);
      else t += wait;
    }
    // Every 4 starts in a row span at least the window: no 1,000 ms holds more than 4.
    for (let i = 4; i < starts.length; i++) expect((starts[i] ?? 0) - (starts[i - 4] ?? 0)).toBeGreaterThanOrEqual(1000);
    expect(starts.length).toBeGreaterThanOrEqual(8);
  });
});
