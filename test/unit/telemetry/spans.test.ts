/**
 * The spans and metrics of what goes wrong or runs in the background: a turn that fails, a card
 * action that fails, a Graph request throttled once, a throttled $batch part, and a bulk job's
 * batches and queue gauges. In-memory OpenTelemetry SDK; Graph is the Graph-shaped test server.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { TokenCredential } from '@azure/identity';
import type { DialogContext } from 'botbuilder-dialogs';
import type { BotFeature } from '../../../src/teams/bot/feature';
import { GraphDirectory } from '../../../src/adapters/graph/GraphDirectory';
import { initialTurnKind } from '../../../src/shared/telemetry';
import { ATTRIBUTES, METRIC_NAMES, SPAN_NAMES } from '../../../src/shared/telemetryNames';
import { observeBulkQueue } from '../../../src/shared/bulkTelemetry';
import { bulkTestEnv, partnersCsv } from '../../support/bulkEnv';
import { DEMO, demoDirectory } from '../../support/directory';
import { messageFrom, startInProcessApp, type RunningApp } from '../../support/e2e/inProcessApp';
import { startGraphServer, type GraphServerOptions, type GraphTestServer } from '../../support/graphServer';
import { capturingLogger, pointsNamed, startTestTelemetry, total, type TestTelemetry } from '../../support/telemetry';

const credential: TokenCredential = { getToken: async () => ({ token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 }) };
const SECRET_WORDS = 'quinn.otelcheck@example.org';

describe('telemetry of failures and background work', () => {
  let telemetry: TestTelemetry;
  let running: RunningApp | undefined;
  let graph: GraphTestServer | undefined;

  beforeAll(() => {
    telemetry = startTestTelemetry();
  });
  afterAll(async () => {
    await telemetry.stop();
  });
  beforeEach(() => telemetry.reset());
  afterEach(async () => {
    await running?.close();
    await graph?.close();
    running = undefined;
    graph = undefined;
  });

  async function graphDirectory(options: GraphServerOptions = {}, logger?: ReturnType<typeof capturingLogger>['logger']) {
    const fake = demoDirectory();
    graph = await startGraphServer(fake, { limits: { timeScale: 0.001 }, ...options });
    const directory = new GraphDirectory({ credential, baseUrl: graph.baseUrl, logger, maxRetries: 3, retryDelaySeconds: 0.01, delayScale: 0.001 });
    return { fake, directory };
  }

  it('a turn that throws: outcome error with the error class only, and the error log line carries its trace id', async () => {
    const boom: BotFeature = {
      name: 'boom',
      onMessage: async (_dc: DialogContext, text: string) => {
        if (text !== 'explode') return false;
        throw new TypeError(`could not handle ${SECRET_WORDS}`);
      },
    };
    const { logger, lines } = capturingLogger();
    running = await startInProcessApp({ overrides: { features: [boom], logger } });
    const before = await telemetry.metrics();
    await running.post(messageFrom('explode'));

    const [turn] = telemetry.spans().filter((s) => s.attributes[ATTRIBUTES.turnKind] !== undefined);
    expect(turn?.attributes).toMatchObject({
      [ATTRIBUTES.turnKind]: 'message:boom',
      [ATTRIBUTES.turnOutcome]: 'error',
      [ATTRIBUTES.errorType]: 'TypeError',
    });
    expect(turn?.status.code).toBe(SpanStatusCode.ERROR);
    const after = await telemetry.metrics();
    const errors = { [ATTRIBUTES.turnKind]: 'message:boom', [ATTRIBUTES.turnOutcome]: 'error' };
    expect(total(after, METRIC_NAMES.turnDuration, errors) - total(before, METRIC_NAMES.turnDuration, errors)).toBe(1);

    // adapter.onTurnError runs after the bot's run() has returned; its line still joins the trace.
    const errorLine = lines().find((l) => l.msg === 'unhandled error in turn');
    expect(errorLine?.trace_id).toBe(turn?.spanContext().traceId);
    expect(await telemetry.exportedText()).not.toContain(SECRET_WORDS);
  });

  it('an activity a guard stops before the bot runs (another tenant) is a turn with outcome "refused"', async () => {
    running = await startInProcessApp();
    const otherTenant = '99999999-8888-4777-8666-555555555555';
    const res = await running.post(
      messageFrom('help', { conversation: { id: 'conv-elsewhere', tenantId: otherTenant, isGroup: false, name: '', conversationType: 'personal' }, channelData: { tenant: { id: otherTenant } } }),
    );
    expect(res.status).toBeLessThan(300);

    const turns = telemetry.spans().filter((s) => s.attributes[ATTRIBUTES.turnKind] !== undefined);
    expect(turns.map((t) => [t.attributes[ATTRIBUTES.turnKind], t.attributes[ATTRIBUTES.turnOutcome]])).toEqual([['message', 'refused']]);
    expect(turns[0]?.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  it('card actions: labelled by their registered verb, an error answer counts as an error; a verb nobody registered is "unknown"', async () => {
    const cards: BotFeature = {
      name: 'cards',
      actions: {
        'cards.fail': async () => {
          throw new Error(SECRET_WORDS);
        },
      },
    };
    running = await startInProcessApp({ overrides: { features: [cards] } });
    const invoke = (verb: string) =>
      running!.post(messageFrom('', { type: 'invoke', name: 'adaptiveCard/action', text: undefined, value: { action: { type: 'Action.Execute', verb, data: {} } } }));
    expect((await invoke('cards.fail')).status).toBe(200);
    expect((await invoke(SECRET_WORDS)).status).toBe(200);

    const turns = telemetry.spans().filter((s) => s.attributes[ATTRIBUTES.turnKind] !== undefined);
    expect(turns.map((t) => [t.attributes[ATTRIBUTES.turnKind], t.attributes[ATTRIBUTES.turnOutcome], t.attributes[ATTRIBUTES.activityType]])).toEqual([
      ['action:cards.fail', 'error', 'invoke'],
      ['action:unknown', 'ok', 'invoke'],
    ]);
    expect(await telemetry.exportedText()).not.toContain(SECRET_WORDS);
  });

  it('a Graph request throttled once: one span with one retry, throttled, final status 200; the 429 counted; the retry warning in the span', async () => {
    const { logger, lines } = capturingLogger();
    const { directory } = await graphDirectory({ faults: { plan: ['429'] } }, logger);
    const before = await telemetry.metrics();

    expect((await directory.getUser(DEMO.users.megan.id))?.id).toBe(DEMO.users.megan.id);

    const spans = telemetry.spans();
    expect(spans).toHaveLength(1);
    const [span] = spans;
    expect(span?.name).toBe('GET /users/{id}');
    expect(span?.kind).toBe(SpanKind.CLIENT);
    expect(span?.attributes).toMatchObject({
      [ATTRIBUTES.graphOperation]: 'GET /users/{id}',
      [ATTRIBUTES.httpMethod]: 'GET',
      [ATTRIBUTES.urlTemplate]: '/users/{id}',
      [ATTRIBUTES.statusCode]: 200,
      [ATTRIBUTES.retryCount]: 1,
      [ATTRIBUTES.throttled]: true,
    });
    expect(span?.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(graph?.requestLog.map((r) => r.status)).toEqual([429, 200]);

    const after = await telemetry.metrics();
    const op = { [ATTRIBUTES.graphOperation]: 'GET /users/{id}' };
    expect(total(after, METRIC_NAMES.graphThrottled, op) - total(before, METRIC_NAMES.graphThrottled, op)).toBe(1);
    expect(pointsNamed(after, METRIC_NAMES.graphRequests, { ...op, [ATTRIBUTES.statusCode]: 200, [ATTRIBUTES.throttled]: true })).toHaveLength(1);

    const retryLine = lines().find((l) => l.msg === 'Graph asked us to retry');
    expect(retryLine?.span_id).toBe(span?.spanContext().spanId);
  });

  it('a throttled part of a $batch is counted as a 429 of the operation it carried', async () => {
    const { directory } = await graphDirectory({ faults: { plan: [null, '429'] } });
    const before = await telemetry.metrics();

    const found = await directory.findUsersByEmail([DEMO.users.megan.mail, DEMO.users.adele.mail]);
    expect(found.size).toBe(2);

    const batches = telemetry.spans().filter((s) => s.name === 'POST /$batch');
    expect(batches).toHaveLength(2); // the part is sent again in a second batch
    const after = await telemetry.metrics();
    const users = { [ATTRIBUTES.graphOperation]: 'GET /users' };
    expect(total(after, METRIC_NAMES.graphThrottled, users) - total(before, METRIC_NAMES.graphThrottled, users)).toBe(1);
  });

  it('a bulk job: a root span per batch of rows with its counts, its Graph requests inside it, invitations counted, queue depth reported', async () => {
    const fake = demoDirectory();
    graph = await startGraphServer(fake, { limits: { timeScale: 0.001 } });
    const baseUrl = graph.baseUrl;
    const env = bulkTestEnv({ fake, directory: () => new GraphDirectory({ credential, baseUrl, maxRetries: 3, retryDelaySeconds: 0.01, delayScale: 0.001 }) });
    const stopGauges = observeBulkQueue(() => env.runner.depth());
    try {
      const job = await env.submit(partnersCsv(5));
      const queued = await telemetry.metrics();
      expect(total(queued, METRIC_NAMES.bulkJobsActive)).toBe(1);
      expect(total(queued, METRIC_NAMES.bulkRowsWaiting)).toBe(5);
      const sentBefore = total(queued, METRIC_NAMES.invitationsSent, { [ATTRIBUTES.invitationSource]: 'bulk' });

      expect(await env.runner.start(job.id)).toBe(true);
      await env.runner.whenFinished(job.id);
      expect(await env.jobs.counts(job.id)).toMatchObject({ done: 5, failed: 0 });

      const spans = telemetry.spans();
      const batches = spans.filter((s) => s.name === SPAN_NAMES.bulkBatch);
      expect(batches).toHaveLength(1);
      const batch = batches[0]!;
      expect(batch.parentSpanContext).toBeUndefined();
      expect(batch.kind).toBe(SpanKind.CONSUMER);
      expect(batch.attributes).toMatchObject({
        [ATTRIBUTES.bulkJobId]: job.id,
        [ATTRIBUTES.bulkRows]: 5,
        [ATTRIBUTES.bulkLookups]: 5,
        [ATTRIBUTES.bulkInvitations]: 5,
        [ATTRIBUTES.bulkExisting]: 0,
      });
      const inBatch = spans.filter((s) => s.parentSpanContext?.spanId === batch.spanContext().spanId).map((s) => s.name);
      expect(inBatch.filter((n) => n === 'POST /invitations')).toHaveLength(5);
      expect(inBatch).toContain('POST /$batch'); // the address look-up

      const done = await telemetry.metrics();
      expect(total(done, METRIC_NAMES.invitationsSent, { [ATTRIBUTES.invitationSource]: 'bulk' }) - sentBefore).toBe(5);
      expect(total(done, METRIC_NAMES.bulkJobsActive)).toBe(0);
      expect(total(done, METRIC_NAMES.bulkRowsWaiting)).toBe(0);
      expect(await telemetry.exportedText()).not.toMatch(/partner\d+@|example\.org|Project Falcon/i);
    } finally {
      stopGauges();
    }
  });
});

describe('turn labels from an activity', () => {
  it.each([
    [{ type: 'message' }, 'message'],
    [{ type: 'conversationUpdate' }, 'conversationUpdate'],
    [{ type: 'invoke', name: 'adaptiveCard/action' }, 'invoke:adaptiveCard/action'],
    [{ type: 'invoke', name: 'Quinn Otelcheck <quinn@example.org>' }, 'invoke:other'],
    [{ type: 'quinn@example.org' }, 'other'],
    [{}, 'unknown'],
  ])('%j starts as "%s": only the protocol\'s own words, never what a client made up', (activity, kind) => {
    expect(initialTurnKind(activity)).toBe(kind);
  });
});
