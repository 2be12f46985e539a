/**
 * Identity fields must agree: the tenant named by the conversation and by Teams' channelData, and
 * the channel account (from.id) with the Entra user (from.aadObjectId). Through the real app in
 * local mode (400 before any turn) and through the middleware alone (dropped and logged, as with
 * Bot Framework authentication).
 */
import { ActivityTypes, TestAdapter, type Activity } from 'botbuilder';
import { IdentityGuard } from '../../../src/teams/bot/identityGuard';
import { SqliteChannelIdentityRepository, channelIdentityMigrations } from '../../../src/adapters/sqlite/channelIdentities';
import { DEMO } from '../../../src/adapters/demo/demoTenant';
import { MEGAN, DEMO_TENANT_ID, messageFrom, replyTexts, startInProcessApp, type RunningApp } from '../../support/e2e/inProcessApp';
import { memoryStore } from '../../support/store';

const ALEX = { id: 'user-alex', name: 'Alex Wilber', aadObjectId: DEMO.users.alex.id };
const OTHER_TENANT = '99999999-8888-4777-8666-555555555555';

describe('identity fields through the app in local mode', () => {
  let running: RunningApp;
  beforeAll(async () => {
    running = await startInProcessApp();
  });
  afterAll(async () => {
    await running.close();
  });

  it.each([
    ['channelData names another tenant', { channelData: { tenant: { id: OTHER_TENANT } } }],
    ['conversation names another tenant', { conversation: { id: 'conv-t', tenantId: OTHER_TENANT, isGroup: false, name: '', conversationType: 'personal' } }],
  ])('%s: 400 with the reason, and no turn runs', async (_label, overrides) => {
    const res = await running.post(messageFrom('help', overrides as Partial<Activity>));
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toMatch(/conversation\.tenantId and channelData\.tenant\.id name different tenants/);
  });

  it('the same tenant in both fields, in any letter case, is served', async () => {
    const res = await running.post(messageFrom('help', { channelData: { tenant: { id: DEMO_TENANT_ID.toUpperCase() } } }));
    expect(res.status).toBe(200);
  });

  it("one person's channel account with another person's object id is refused, both ways round", async () => {
    expect((await running.post(messageFrom('help'))).status).toBe(200);
    expect((await running.post(messageFrom('help', { from: ALEX }))).status).toBe(200);

    const forgedObjectId = await running.post(messageFrom('pending', { from: { id: MEGAN.id, name: 'Megan Bowen', aadObjectId: ALEX.aadObjectId } }));
    expect(forgedObjectId.status).toBe(400);
    expect(JSON.stringify(await forgedObjectId.json())).toMatch(/from\.id belongs to a different user/);

    const forgedAccount = await running.post(messageFrom('pending', { from: { id: 'user-new', name: 'Alex Wilber', aadObjectId: ALEX.aadObjectId } }));
    expect(forgedAccount.status).toBe(400);
    expect(JSON.stringify(await forgedAccount.json())).toMatch(/from\.aadObjectId belongs to a different channel account/);

    const noAccount = await running.post(messageFrom('pending', { from: { id: '', name: 'Alex Wilber', aadObjectId: ALEX.aadObjectId } }));
    expect(noAccount.status).toBe(400);
    expect(JSON.stringify(await noAccount.json())).toMatch(/from\.aadObjectId comes without from\.id/);

    // The genuine pairs keep working.
    const genuine = await running.post(messageFrom('pending', { from: ALEX }));
    expect(genuine.status).toBe(200);
    expect(replyTexts(await genuine.json()).join(' ')).not.toMatch(/identity/);
  });
});

describe('the identity guard as middleware (Bot Framework mode: dropped and logged)', () => {
  function guarded() {
    const store = memoryStore(channelIdentityMigrations);
    const warnings: Array<Record<string, unknown>> = [];
    const guard = new IdentityGuard(new SqliteChannelIdentityRepository(store.db, store.conversationReferences), {
      warn: (obj: Record<string, unknown>) => warnings.push(obj),
    } as never);
    const turns: string[] = [];
    const adapter = new TestAdapter(async (context) => {
      turns.push(context.activity.type);
      if (context.activity.type === ActivityTypes.Message) await context.sendActivity('served');
    }).use(guard);
    return { adapter, warnings, turns, store };
  }

  const activity = (from: { id: string; aadObjectId: string }, extra: Partial<Activity> = {}): Partial<Activity> => ({
    type: ActivityTypes.Message,
    text: 'hi',
    channelId: 'msteams',
    from: { ...from, name: 'x' },
    conversation: { id: 'c1', tenantId: DEMO_TENANT_ID, isGroup: false, name: '', conversationType: 'personal' },
    channelData: { tenant: { id: DEMO_TENANT_ID } },
    ...extra,
  });

  it('drops a forged pair without a reply, logs ids only, and answers an invoke 400', async () => {
    const { adapter, warnings, turns } = guarded();
    await adapter.send(activity({ id: '29:megan', aadObjectId: MEGAN.aadObjectId })).assertReply('served');
    await adapter.processActivity(activity({ id: '29:megan', aadObjectId: ALEX.aadObjectId }));
    expect(adapter.activeQueue).toHaveLength(0);
    expect(turns).toEqual(['message']);
    expect(warnings).toEqual([expect.objectContaining({ problem: 'channelAccountBelongsToAnother' })]);
    expect(JSON.stringify(warnings)).not.toContain('hi');

    await adapter.processActivity(
      activity({ id: '29:megan', aadObjectId: ALEX.aadObjectId }, { type: ActivityTypes.Invoke, name: 'adaptiveCard/action', value: {} }),
    );
    const answer = adapter.activeQueue.shift();
    expect(answer?.type).toBe('invokeResponse');
    expect((answer?.value as { status: number }).status).toBe(400);
    expect(turns).toEqual(['message']);
  });

  it('a personal chat stored before pairs were remembered still vouches for its user', async () => {
    const { adapter, store, turns } = guarded();
    await store.conversationReferences.upsert({
      channelId: 'msteams',
      serviceUrl: 'https://smba.example/',
      user: { id: '29:alex-real', name: 'Alex Wilber', aadObjectId: ALEX.aadObjectId },
      conversation: { id: 'a:alex', conversationType: 'personal', tenantId: DEMO_TENANT_ID, isGroup: false, name: '' },
      bot: { id: 'bot', name: 'bot' },
    });
    await adapter.processActivity(activity({ id: '29:impostor', aadObjectId: ALEX.aadObjectId }));
    expect(turns).toEqual([]);
    await adapter.send(activity({ id: '29:alex-real', aadObjectId: ALEX.aadObjectId })).assertReply('served');
  });
});
