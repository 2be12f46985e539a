/**
 * The bulk runner over Azure Queue storage (Azurite): the same job, exactly once, with its work
 * in a storage queue; and the poison path with the service's own dequeue counts. Reports the
 * queue's transactions per guest (Azure bills per transaction).
 */
import { AzureWorkQueue } from '../../../src/adapters/azure/workQueue';
import { BULK_QUEUE, QUEUED_OWNER, rowsMessage } from '../../../src/usecases/bulk/workMessages';
import { bulkTestEnv, invitationsPerAddress, partnersCsv } from '../../support/bulkEnv';
import { useAzurite } from '../../support/azurite';

const azurite = useAzurite();

describe('bulk work on Azure Queue storage', () => {
  jest.setTimeout(60_000);

  it('a job worked from a storage queue invites and adds each row once, with few queue transactions per guest', async () => {
    const account = azurite.account();
    const env = bulkTestEnv({ queue: new AzureWorkQueue(account), runner: { pollMs: 50 } });
    const ROWS = 250;
    const job = await env.submit(partnersCsv(ROWS));
    await env.runner.start(job.id);
    await env.runner.whenFinished(job.id);
    await env.runner.stop();
    expect(await env.jobs.counts(job.id)).toMatchObject({ done: ROWS, failed: 0 });
    const perAddress = invitationsPerAddress(env.fake);
    expect(perAddress.size).toBe(ROWS);
    expect([...perAddress.values()].every((n) => n === 1)).toBe(true);
    const perGuest = account.transactions / ROWS;
    process.stderr.write(`[figures] bulk queue on Azurite: ${account.transactions} queue transactions for ${ROWS} guests (${perGuest.toFixed(3)} per guest)\n`);
    // Messages (1 plan + 3 chunks) × send, receive, delete, plus empty polls and lease renewals.
    expect(perGuest).toBeLessThan(0.5);
  });

  it('a message received more than the limit is given up: its rows fail with the reason', async () => {
    const queue = new AzureWorkQueue(azurite.account());
    const env = bulkTestEnv({ queue, runner: { maxDequeues: 2, pollMs: 50 } });
    const job = await env.submit(partnersCsv(3));
    await env.jobs.update(job.id, job.version, { state: 'running', leaseOwner: QUEUED_OWNER, leaseUntil: null });
    await queue.send(BULK_QUEUE, rowsMessage(job.id, 2, 4));
    for (let i = 0; i < 2; i++) {
      const [message] = await queue.receive(BULK_QUEUE, 1, 60_000);
      expect(message?.dequeueCount).toBe(i + 1);
      await queue.extend(BULK_QUEUE, message!, 0);
    }
    await env.runner.resumeAll();
    await env.runner.whenFinished(job.id);
    await env.runner.stop();
    expect(await env.jobs.counts(job.id)).toMatchObject({ failed: 3, done: 0 });
    expect(env.fake.callCount('invite')).toBe(0);
    expect(await queue.receive(BULK_QUEUE, 32, 1000)).toEqual([]);
  });
});
