/**
 * Progress reaches the requester as one card updated in place: when a confirmed job has no card
 * to update yet, the first notice posts one and every later notice updates that same card.
 */
import { TeamsBulkNotifier } from '../../../src/teams/bulk/bulkNotifier';
import { BULK_TEST_REFERENCE, BULK_TEST_SETTINGS, RecordingNotifier, bulkServiceInstance, textOf } from '../../support/bulkBot';
import { bulkTestEnv, partnersCsv } from '../../support/bulkEnv';

const settings = BULK_TEST_SETTINGS;
const REFERENCE = BULK_TEST_REFERENCE;

describe('bulk notices', () => {
  it('a job with no card yet gets one posted, then every notice updates that card', async () => {
    const env = bulkTestEnv();
    const { service, messenger } = bulkServiceInstance(env);
    const staged = await env.stage(partnersCsv(30));
    const queued = await env.jobs.update(staged.job.id, staged.job.version, { state: 'queued', conversationRef: REFERENCE, progressActivityId: null });
    if (!queued) throw new Error('could not queue the job');

    expect(await service.runner.start(queued.id)).toBe(true);
    await service.runner.whenFinished(queued.id);

    const cards = messenger.notices.filter((n) => n.card);
    expect(cards[0]).toMatchObject({ kind: 'send', activityId: 'sent-1' });
    expect(cards.slice(1).length).toBeGreaterThan(0);
    expect(cards.slice(1).every((n) => n.kind === 'update' && n.activityId === 'sent-1')).toBe(true);
    expect((await env.jobs.get(queued.id))?.progressActivityId).toBe('sent-1');
    expect(textOf(cards.at(-1)?.card)).toContain('Completed');
    const finished = messenger.notices.filter((n) => n.kind === 'send' && n.text);
    expect(finished).toHaveLength(1);
    expect(finished[0]?.text).toContain('has finished: 30 invited and added, 0 failed');
  });

  it('a job without a conversation to write to gets no notices', async () => {
    const messenger = new RecordingNotifier();
    const notifier = new TeamsBulkNotifier(messenger, settings);
    const env = bulkTestEnv();
    const staged = await env.stage(partnersCsv(1));
    const progress = { jobId: staged.job.id, state: 'running' as const, total: 1, done: 0, failed: 0, cancelled: 0, gaveUp: 0, remaining: 1, ratePerMinute: 0, finishedThisRun: 0, elapsedMs: 0, secondsLeft: null, counts: await env.jobs.counts(staged.job.id) };
    expect(await notifier.progress(staged.job, progress)).toBeNull();
    expect(await notifier.finished(staged.job, progress, { invited: 0, emailed: 0, notEmailed: 0 })).toBeNull();
    expect(messenger.notices).toEqual([]);
  });
});
