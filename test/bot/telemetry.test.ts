/**
 * One invitation through the real app (createApp: server, adapter, bot, features), with the
 * OpenTelemetry SDK on in-memory exporters: the turn spans and their kinds, the Graph request
 * spans inside them (GraphDirectory over the Graph-shaped test server), the metrics, trace ids
 * in the log lines, and nothing personal anywhere in what would be exported.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { TokenCredential } from '@azure/identity';
import { GraphDirectory } from '../../src/adapters/graph/GraphDirectory';
import { ATTRIBUTES, METRIC_NAMES, SPAN_NAMES } from '../../src/shared/telemetryNames';
import { DEMO, demoDirectory } from '../support/directory';
import { DEMO_TENANT_ID, messageFrom, startInProcessApp, type RunningApp } from '../support/e2e/inProcessApp';
import { startGraphServer, type GraphTestServer } from '../support/graphServer';
import { capturingLogger, pointsNamed, startTestTelemetry, total, type TestTelemetry } from '../support/telemetry';

const GUEST_NAME = 'Quinn Otelcheck';
const GUEST_EMAIL = 'quinn.otelcheck@example.org';
const INVITE_TEXT = `invite ${GUEST_NAME} <${GUEST_EMAIL}> to Project Falcon`;
/** Nothing of these may reach a span or a metric: the guest, the asker, the site, the words typed. */
const PERSONAL = [GUEST_EMAIL, 'quinn', 'otelcheck', 'example.org', 'megan', 'bowen', 'project falcon', 'falcon', INVITE_TEXT.toLowerCase()];
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

const credential: TokenCredential = { getToken: async () => ({ token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 }) };

/** Sends the invitation and its confirmation in one personal chat; returns the redeem link the bot showed. */
async function inviteOneGuest(running: RunningApp): Promise<string> {
  const conversation = { id: 'conv-telemetry', tenantId: DEMO_TENANT_ID, isGroup: false, name: '', conversationType: 'personal' };
  const say = async (text: string): Promise<string> => {
    const res = await running.post(messageFrom(text, { conversation }));
    expect(res.status).toBe(200);
    return JSON.stringify(await res.json());
  };
  expect(await say(INVITE_TEXT)).toContain('Invite this guest?');
  const result = await say('confirm');
  const redeem = /https:\/\/login\.microsoftonline\.com\/redeem[^"\\]*/.exec(result)?.[0];
  expect(redeem).toBeDefined();
  return redeem as string;
}

async function expectNothingPersonal(telemetry: TestTelemetry, extra: string[]): Promise<void> {
  const exported = (await telemetry.exportedText()).toLowerCase();
  for (const value of [...PERSONAL, ...extra.map((v) => v.toLowerCase())]) expect(exported).not.toContain(value);
  expect(exported).not.toMatch(UUID);
}

describe('telemetry of one invitation through the bot', () => {
  let telemetry: TestTelemetry;
  let running: RunningApp | undefined;
  let graph: GraphTestServer | undefined;

  beforeAll(() => {
    telemetry = startTestTelemetry();
  });
  afterAll(async () => {
    await telemetry.stop();
  });
  afterEach(async () => {
    await running?.close();
    await graph?.close();
    running = undefined;
    graph = undefined;
  });

  it('with the demo directory: a span per turn with its kind and outcome, the turn-time histogram, one invitation counted, trace ids in the logs', async () => {
    const { logger, lines } = capturingLogger();
    running = await startInProcessApp({ overrides: { logger } });
    const before = await telemetry.metrics();
    telemetry.reset();

    const redeem = await inviteOneGuest(running);

    const turns = telemetry.spans().filter((s) => s.attributes[ATTRIBUTES.turnKind] !== undefined);
    expect(turns.map((s) => s.attributes[ATTRIBUTES.turnKind])).toEqual(['message:invite', 'dialog:inviteGuest.confirm']);
    expect(turns.map((s) => s.name)).toEqual([`${SPAN_NAMES.turn} message:invite`, `${SPAN_NAMES.turn} dialog:inviteGuest.confirm`]);
    for (const turn of turns) {
      expect(turn.kind).toBe(SpanKind.SERVER);
      expect(turn.attributes).toMatchObject({
        [ATTRIBUTES.turnOutcome]: 'ok',
        [ATTRIBUTES.activityType]: 'message',
        [ATTRIBUTES.channel]: 'msteams',
        [ATTRIBUTES.conversationType]: 'personal',
      });
      expect(turn.status.code).not.toBe(SpanStatusCode.ERROR);
    }
    // The demo directory makes no HTTP requests: no Graph spans.
    expect(telemetry.spans().filter((s) => s.attributes[ATTRIBUTES.turnKind] === undefined)).toEqual([]);

    const after = await telemetry.metrics();
    const grew = (match: Record<string, string>) =>
      total(after, METRIC_NAMES.turnDuration, match) - total(before, METRIC_NAMES.turnDuration, match);
    expect(grew({ [ATTRIBUTES.turnKind]: 'message:invite', [ATTRIBUTES.turnOutcome]: 'ok' })).toBe(1);
    expect(grew({ [ATTRIBUTES.turnKind]: 'dialog:inviteGuest.confirm', [ATTRIBUTES.turnOutcome]: 'ok' })).toBe(1);
    const confirmTime = pointsNamed(after, METRIC_NAMES.turnDuration, { [ATTRIBUTES.turnKind]: 'dialog:inviteGuest.confirm' })[0];
    expect(confirmTime?.sum).toBeGreaterThan(0);
    expect(confirmTime?.sum).toBeLessThan(30); // seconds: the unit is s, not ms
    expect(total(after, METRIC_NAMES.invitationsSent, { [ATTRIBUTES.invitationSource]: 'chat' })).toBe(
      total(before, METRIC_NAMES.invitationsSent, { [ATTRIBUTES.invitationSource]: 'chat' }) + 1,
    );

    // Every line logged during a turn names that turn's trace and span.
    const turnLines = lines().filter((l) => l.msg === 'turn started');
    expect(turnLines).toHaveLength(2);
    expect(turnLines.map((l) => [l.trace_id, l.span_id])).toEqual(turns.map((s) => [s.spanContext().traceId, s.spanContext().spanId]));
    // Outside a turn (start-up), no trace id.
    expect(lines().find((l) => typeof l.msg === 'string' && (l.msg as string).startsWith('bot listening'))?.trace_id).toBeUndefined();

    await expectNothingPersonal(telemetry, [redeem]);
  });

  it('with GraphDirectory over HTTP: a span per Graph request inside its turn, by route template, counted by operation and status', async () => {
    const fake = demoDirectory();
    graph = await startGraphServer(fake);
    const directory = new GraphDirectory({ credential, baseUrl: graph.baseUrl, tenantId: DEMO.tenantId, maxRetries: 3, retryDelaySeconds: 0.01 });
    running = await startInProcessApp({ overrides: { directory } });
    const before = await telemetry.metrics();
    telemetry.reset();
    const logged = graph.requestLog.length;

    const redeem = await inviteOneGuest(running);

    const spans = telemetry.spans();
    const turns = spans.filter((s) => s.attributes[ATTRIBUTES.turnKind] !== undefined);
    expect(turns.map((s) => s.attributes[ATTRIBUTES.turnKind])).toEqual(['message:invite', 'dialog:inviteGuest.confirm']);
    const requests = spans.filter((s) => s.attributes[ATTRIBUTES.graphOperation] !== undefined);
    const sent = graph.requestLog.slice(logged).filter((r) => !r.inBatch);
    expect(requests).toHaveLength(sent.length);

    // Each Graph span is a child of one of the two turns, in the same trace.
    const turnIds = new Set(turns.map((t) => t.spanContext().spanId));
    for (const request of requests) {
      expect(request.kind).toBe(SpanKind.CLIENT);
      expect(turnIds.has(request.parentSpanContext?.spanId ?? '')).toBe(true);
      expect(request.name).toBe(request.attributes[ATTRIBUTES.graphOperation]);
      expect(request.attributes).toMatchObject({ [ATTRIBUTES.retryCount]: 0, [ATTRIBUTES.throttled]: false });
      expect(request.name).toMatch(/^(GET|POST|PATCH) \/[A-Za-z$]/);
    }
    const confirm = turns[1]!;
    const inConfirm = requests.filter((r) => r.parentSpanContext?.spanId === confirm.spanContext().spanId).map((r) => r.name);
    expect(inConfirm).toContain('POST /invitations');
    expect(inConfirm).toContain('POST /groups/{id}/members/$ref');
    expect(requests.find((r) => r.name === 'POST /invitations')?.attributes[ATTRIBUTES.statusCode]).toBe(201);
    // The address look-up is a $filter on /users: the filter (the guest's address) is not in the name.
    expect(requests.map((r) => r.name)).toContain('GET /users');

    const after = await telemetry.metrics();
    const countOf = (points: typeof after, operation: string) => total(points, METRIC_NAMES.graphRequests, { [ATTRIBUTES.graphOperation]: operation });
    expect(countOf(after, 'POST /invitations') - countOf(before, 'POST /invitations')).toBe(1);
    expect(total(after, METRIC_NAMES.graphRequests) - total(before, METRIC_NAMES.graphRequests)).toBe(sent.length);
    expect(total(after, METRIC_NAMES.graphThrottled)).toBe(total(before, METRIC_NAMES.graphThrottled));
    expect(pointsNamed(after, METRIC_NAMES.graphRequests, { [ATTRIBUTES.graphOperation]: 'POST /invitations' })[0]?.attributes).toMatchObject({
      [ATTRIBUTES.statusCode]: 201,
      [ATTRIBUTES.throttled]: false,
    });

    await expectNothingPersonal(telemetry, [redeem]);
  });
});
