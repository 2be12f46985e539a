/**
 * The sponsor travels with the invitation: POST /invitations carries invitedUserSponsors (the
 * person who asked), over real HTTP to the Graph-shaped test server, and the guest lifecycle does
 * not add it a second time; an existing guest gets it through POST /users/{id}/sponsors/$ref.
 */
import type { AccessToken, TokenCredential } from '@azure/identity';
import { GraphDirectory } from '../../src/adapters/graph/GraphDirectory';
import { InviteGuestService } from '../../src/usecases/invite/inviteGuest';
import { SignInAdvisor } from '../../src/usecases/signIn/signInAdvisor';
import { guestAccountsFrom } from '../../src/app/lifecycleWiring';
import { createGuestLifecycle } from '../../src/usecases/lifecycle/guestLifecycle';
import { AccessRecording } from '../../src/usecases/invite/accessRecording';
import { DEFAULT_LIFECYCLE_SETTINGS } from '../../src/domain/lifecycle';
import { startGraphServer, type GraphTestServer } from '../support/graphServer';
import { inviteTestbed, type InviteTestbed } from '../support/dialogHarness';
import { RecordingNotifier } from '../support/lifecycle';
import { DEMO } from '../support/directory';

const credential: TokenCredential = {
  getToken: async (): Promise<AccessToken> => ({ token: 'sponsor-test-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};
const { megan, jordan } = DEMO.users;

let server: GraphTestServer;
let bed: InviteTestbed;
let service: InviteGuestService;

beforeEach(async () => {
  bed = inviteTestbed();
  server = await startGraphServer(bed.directory);
  const graph = new GraphDirectory({ credential, baseUrl: server.baseUrl, maxRetries: 3, retryDelaySeconds: 0.001 });
  const settings = DEFAULT_LIFECYCLE_SETTINGS;
  const lifecycle = createGuestLifecycle({
    access: bed.store.guestAccess,
    work: bed.store.scheduledWork,
    accounts: guestAccountsFrom(graph),
    notifier: new RecordingNotifier(),
    audit: bed.store.audit,
    clock: bed.clock,
    settings,
    approvals: null,
  });
  service = new InviteGuestService({
    directory: graph,
    advisor: new SignInAdvisor(graph),
    invitations: bed.invitations,
    audit: bed.store.audit,
    sendInvitationEmail: false,
    clock: bed.clock,
    sleep: async () => undefined,
    access: new AccessRecording({ recorder: lifecycle, work: bed.store.scheduledWork, invitations: bed.invitations, accessRecords: bed.store.guestAccess, settings, clock: bed.clock }),
  });
});
afterEach(async () => {
  await server.close();
});

const sponsorWrites = () => server.requestLog.filter((r) => r.method === 'POST' && /\/users\/[^/]+\/sponsors\/\$ref$/.test(r.path));

describe('the sponsor on the invitation', () => {
  it('POST /invitations names the inviter in invitedUserSponsors, and no separate sponsor call follows', async () => {
    const outcome = await service.execute({
      email: 'jane@fabrikam.com',
      displayName: 'Jane Doe',
      groupId: DEMO.groups.projectFalcon.id,
      requestedBy: bed.actor('megan'),
    });
    expect(outcome.status).toBe('completed');
    const post = server.requestLog.find((r) => r.method === 'POST' && r.path === '/v1.0/invitations');
    expect((post?.body as { invitedUserSponsors?: unknown }).invitedUserSponsors).toEqual([{ id: megan.id }]);
    expect(sponsorWrites()).toHaveLength(0);
    const userId = outcome.record?.userId as string;
    expect((await bed.directory.listSponsors(userId)).map((s) => s.id)).toEqual([megan.id]);
    expect(outcome.access).toMatchObject({ recorded: true, endsAt: '2025-07-14T09:00:00.000Z' });
  });

  it('an existing guest added to one more site gets the sponsor through POST /users/{id}/sponsors/$ref', async () => {
    const outcome = await service.execute({ email: jordan.mail, displayName: 'Jordan Lee', groupId: DEMO.groups.marketing.id, requestedBy: bed.actor('megan') });
    expect(outcome.status).toBe('completed');
    expect(server.requestLog.some((r) => r.method === 'POST' && r.path === '/v1.0/invitations')).toBe(false);
    expect(sponsorWrites().map((r) => r.path)).toEqual([`/v1.0/users/${jordan.id}/sponsors/$ref`]);
    expect((await bed.directory.listSponsors(jordan.id)).map((s) => s.id)).toContain(megan.id);
  });
});
