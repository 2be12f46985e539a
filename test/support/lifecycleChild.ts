/**
 * One bot instance for the lifecycle-once test (test/instances/lifecycleOnce.test.ts): the Azure
 * store on the shared Azurite, the guest lifecycle with its handlers, and a ScheduledWorkRunner,
 * as the app runs them. The directory is a FakeGuestAccounts built from SEED_FILE (each instance
 * its own copy of the same tenant) and the notifier takes a moment per message, as a proactive send
 * to Teams does. Every directory write and every notice is appended as one JSON line to LOG_FILE,
 * which both instances share, so the parent counts what the two did together.
 *
 * Prints "ready" once its holder is registered, waits for GO_FILE to exist (so both instances
 * start their runners at the same moment), then prints "started".
 * Environment: AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_PREFIX, SEED_FILE, LOG_FILE,
 * GO_FILE, INTERVAL_MS, SEND_MS.
 */
import fs from 'node:fs';
import { openAzureStore } from '../../src/adapters/azure/store';
import { systemClock } from '../../src/domain/clock';
import { DEFAULT_LIFECYCLE_SETTINGS } from '../../src/domain/lifecycle';
import { createGuestLifecycle } from '../../src/usecases/lifecycle/guestLifecycle';
import type { Delivery, GuestAccounts, LifecycleNotifier, NoticeRecipient } from '../../src/usecases/lifecycle/ports';
import { ScheduledWorkRunner } from '../../src/usecases/scheduling/workRunner';
import { FakeGuestAccounts } from './lifecycle';

export interface LifecycleSeed {
  sponsors: Array<{ id: string; displayName: string }>;
  owners: Record<string, Array<{ id: string; displayName: string }>>;
  guests: Array<{ id: string; displayName: string; groups: string[]; state: 'PendingAcceptance' | 'Accepted' }>;
}

/** One line of LOG_FILE. */
export type LifecycleLogLine =
  | { pid: number; write: string }
  | { pid: number; notice: keyof LifecycleNotifier; to: string; accessId: string | null; detail: string | null };

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const logFile = env('LOG_FILE');
const log = (line: LifecycleLogLine): void => fs.appendFileSync(logFile, `${JSON.stringify(line)}\n`);
const sendMs = Number(process.env.SEND_MS ?? 20);
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The fake tenant, each write it records also appended to the shared log. */
function loggedAccounts(fake: FakeGuestAccounts): GuestAccounts {
  return new Proxy(fake, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const from = target.writes.length;
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          for (const write of target.writes.slice(from)) log({ pid: process.pid, write });
        }
      };
    },
  });
}

function loggingNotifier(): LifecycleNotifier {
  const send = async (notice: keyof LifecycleNotifier, to: string, accessId: string | null, detail: string | null): Promise<Delivery> => {
    await pause(sendMs);
    log({ pid: process.pid, notice, to, accessId, detail });
    return 'sent';
  };
  const id = (n: { access: { accessId: string } }): string => n.access.accessId;
  return {
    unredeemedReminder: (to: NoticeRecipient, n) => send('unredeemedReminder', to.userId, id(n), null),
    autoWithdrawn: (to, n) => send('autoWithdrawn', to.userId, id(n), n.reason),
    renewalReminder: (to, n) => send('renewalReminder', to.userId, id(n), n.forEndsAt),
    accessEnded: (to, n) => send('accessEnded', to.userId, id(n), n.reason),
    guestAccessEnded: (guest, n) => send('guestAccessEnded', guest.userId, null, n.siteName),
    sponsorshipReceived: (to, n) => send('sponsorshipReceived', to.userId, id(n), null),
  };
}

async function main(): Promise<void> {
  const seed = JSON.parse(fs.readFileSync(env('SEED_FILE'), 'utf8')) as LifecycleSeed;
  const fake = new FakeGuestAccounts();
  for (const s of seed.sponsors) fake.addUser(s.id, { displayName: s.displayName });
  for (const [group, owners] of Object.entries(seed.owners)) fake.owners.set(group, owners);
  for (const g of seed.guests) fake.addGuest(g.id, g.displayName, g.groups, g.state);

  const store = openAzureStore({
    account: { connectionString: env('AZURE_STORAGE_CONNECTION_STRING'), prefix: env('AZURE_STORAGE_PREFIX') },
    holderTtlMs: 3000,
  });
  await store.holders.start();
  // What went wrong shows in the parent's failure message (reasons and ids only: no personal data).
  const logger = {
    info: () => undefined,
    warn: (fields: object, message?: string) => void process.stderr.write(`warn ${message ?? ''} ${JSON.stringify(fields)}\n`),
    error: (fields: object, message?: string) => void process.stderr.write(`error ${message ?? ''} ${JSON.stringify(fields)}\n`),
  };
  const lifecycle = createGuestLifecycle({
    access: store.guestAccess,
    work: store.scheduledWork,
    accounts: loggedAccounts(fake),
    notifier: loggingNotifier(),
    audit: store.audit,
    clock: systemClock,
    settings: DEFAULT_LIFECYCLE_SETTINGS,
    approvals: null,
    logger,
  });
  // Small batches, so that the two instances' claims interleave rather than one taking everything.
  const runner = new ScheduledWorkRunner({
    work: store.scheduledWork,
    holderId: store.holders.holderId,
    clock: systemClock,
    handlers: lifecycle.handlers,
    options: { intervalMs: Number(process.env.INTERVAL_MS ?? 500), batch: 2 },
    logger,
  });
  // The runner's timer and the holder's heartbeat are unref'd (in the app the HTTP server keeps the
  // process alive): without this the instance would exit quietly once its first pass is done, and
  // work falling due later would never run.
  const alive = setInterval(() => undefined, 60_000);
  const stop = async (): Promise<void> => {
    clearInterval(alive);
    await runner.stop();
    await store.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.stdout.write('ready\n');
  const go = env('GO_FILE');
  while (!fs.existsSync(go)) await pause(10);
  runner.start();
  process.stdout.write('started\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`lifecycle child failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
