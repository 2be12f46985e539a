/**
 * The Graph budget per kind of turn (README, Performance): the whole app with DIRECTORY=graph,
 * talking over HTTP to the Graph-shaped test server, which counts every request it receives.
 */
import type { AccessToken } from '@azure/identity';
import type { Activity } from 'botbuilder';
import { createDirectory } from '../../src/app/createDirectory';
import { DEMO, demoDirectory } from '../support/directory';
import { replyTexts, startInProcessApp, testConfig, type RunningApp } from '../support/e2e/inProcessApp';
import { startGraphServer, type GraphTestServer, type LoggedRequest } from '../support/graphServer';

const credential = { getToken: async (): Promise<AccessToken> => ({ token: 'budget-token', expiresOnTimestamp: Date.now() + 3_600_000 }) };

type Person = { id: string; displayName: string };

function message(person: Person, conversationId: string, text: string): Partial<Activity> {
  return {
    type: 'message',
    id: `act-${Math.random().toString(36).slice(2)}`,
    text,
    channelId: 'msteams',
    serviceUrl: 'http://127.0.0.1:9/',
    from: { id: `29:${person.id}`, name: person.displayName, aadObjectId: person.id },
    recipient: { id: 'bot-id', name: 'Guest onboarding' },
    conversation: { id: conversationId, tenantId: DEMO.tenantId, isGroup: false, name: '', conversationType: 'personal' },
    channelData: { tenant: { id: DEMO.tenantId } },
    deliveryMode: 'expectReplies',
  };
}

describe('Graph requests per turn (DIRECTORY=graph)', () => {
  let fake: ReturnType<typeof demoDirectory>;
  let graph: GraphTestServer;
  let running: RunningApp;

  beforeEach(async () => {
    fake = demoDirectory();
    graph = await startGraphServer(fake, { pageSize: 100 });
    const config = testConfig({
      DIRECTORY: 'graph',
      GRAPH_TENANT_ID: DEMO.tenantId,
      GRAPH_CLIENT_ID: '00000000-0000-4000-8000-000000000001',
      GRAPH_CLIENT_SECRET: 'unused',
      GRAPH_BASE_URL: graph.baseUrl,
      APPROVER_GROUP_ID: DEMO.groups.guestApprovers.id,
    });
    running = await startInProcessApp({ config, overrides: { directory: createDirectory(config, undefined, { credential }) } });
  });

  afterEach(async () => {
    await running.close();
    await graph.close();
  });

  /** Sends one message and returns what the bot said and the Graph requests the turn made. */
  async function turn(person: Person, conversationId: string, text: string): Promise<{ texts: string[]; requests: LoggedRequest[] }> {
    const from = graph.requestLog.length;
    const res = await running.post(message(person, conversationId, text));
    expect(res.status).toBe(200);
    const texts = replyTexts(await res.json());
    return { texts, requests: graph.requestLog.slice(from).filter((r) => !r.inBatch) };
  }

  const describeRequests = (requests: LoggedRequest[]): string[] => requests.map((r) => `${r.method} ${r.path}`);

  it('a repeated sign-in question about a known domain costs at most one request, and the policies are read once', async () => {
    const megan = DEMO.users.megan;
    const first = await turn(megan, 'a:budget-owner', 'what sign-in will jane@fabrikam.com get?');
    expect(first.texts.join(' ')).toContain('jane@fabrikam.com');
    const policyReads = first.requests.filter((r) => r.path.endsWith('/policies/authorizationPolicy')).length;
    expect(policyReads).toBe(1);

    const repeat = await turn(megan, 'a:budget-owner', 'what sign-in will john@fabrikam.com get?');
    expect(repeat.texts.join(' ')).toContain('john@fabrikam.com');
    expect(describeRequests(repeat.requests)).toEqual(['GET /v1.0/users']);
  });

  it('confirming an invitation costs at most four requests (look-up, invite, add, verify) and really invites', async () => {
    const megan = DEMO.users.megan;
    const conversation = 'a:budget-invite';
    const start = await turn(megan, conversation, 'invite Jane Budget <jane.budget@fabrikam.com> to Project Falcon');
    expect(start.texts.join(' ')).toContain('Invite this guest?');

    const confirm = await turn(megan, conversation, 'confirm');
    expect(confirm.texts.join(' ')).toContain('jane.budget@fabrikam.com');
    expect(confirm.requests.length).toBeLessThanOrEqual(4);
    expect(describeRequests(confirm.requests)).toEqual(expect.arrayContaining(['POST /v1.0/invitations']));
    const guest = fake.state.usersByAddress('jane.budget@fabrikam.com')[0];
    expect(guest).toBeDefined();
    expect(fake.state.group(DEMO.groups.projectFalcon.id)?.members).toContain(guest?.id);
  });

  it('a guest asking "why did I get a code?" costs at most two requests', async () => {
    // Someone has used the bot before: the tenant's policies are in hand.
    await turn(DEMO.users.megan, 'a:budget-warm', 'what sign-in will jane@fabrikam.com get?');

    const jordan = DEMO.users.jordan;
    const asked = await turn(jordan, 'a:budget-guest', 'why did I get a code?');
    expect(asked.texts.join(' ').toLowerCase()).toContain('code');
    expect(asked.requests.length).toBeLessThanOrEqual(2);
  });
});
