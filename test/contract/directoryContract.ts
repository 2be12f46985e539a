/**
 * The Directory contract: what every implementation must do, observed only through the
 * Directory interface. Arrangement goes through the FakeDirectory's hooks (addUser, addGroup,
 * setPolicies, redeem): for GraphDirectory the fake is the state behind the Graph-shaped server.
 *
 * Every suite starts from the demo tenant (test/support/directory.ts).
 */
import type { Directory } from '../../src/usecases/ports/Directory';
import { DirectoryError } from '../../src/usecases/ports/Directory';
import type { FakeDirectory } from '../../src/adapters/demo/FakeDirectory';
import { DEMO } from '../../src/adapters/demo/demoTenant';
import { labGroup, partnerGuest } from '../support/directory';

export interface DirectoryUnderTest {
  directory: Directory;
  fake: FakeDirectory;
  close(): Promise<void>;
}

const { megan, adele, alex, jordan, leeGu } = DEMO.users;
const { projectFalcon, marketing, research, guestApprovers } = DEMO.groups;
const SITE = projectFalcon.siteUrl;

async function rejection(promise: Promise<unknown>): Promise<DirectoryError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof DirectoryError) return e;
    throw new Error(`expected a DirectoryError, got ${String(e)}`, { cause: e });
  }
  throw new Error('expected the call to fail, but it succeeded');
}

export function describeDirectoryContract(name: string, makeDirectory: () => Promise<DirectoryUnderTest>): void {
  describe(`Directory contract: ${name}`, () => {
    let directory: Directory;
    let fake: FakeDirectory;
    let close: () => Promise<void>;

    beforeEach(async () => {
      ({ directory, fake, close } = await makeDirectory());
    });
    afterEach(async () => {
      await close();
    });

    describe('finding users', () => {
      it('finds a member by mail whatever the case, as a member with no external state', async () => {
        const user = await directory.findUserByEmail('MEGAN.Bowen@Contoso.COM');
        expect(user).toMatchObject({
          id: megan.id,
          displayName: 'Megan Bowen',
          mail: megan.mail,
          kind: 'member',
          externalUserState: null,
        });
      });

      it("finds a guest by the #EXT# userPrincipalName Entra gave them", async () => {
        const user = await directory.findUserByEmail('jordan.lee_tailspintoys.com#EXT#@contoso.onmicrosoft.com');
        expect(user?.id).toBe(jordan.id);
        expect(user?.kind).toBe('guest');
      });

      it('finds a user by an address held only in otherMails', async () => {
        fake.addUser(partnerGuest(1, { otherMails: ['pat.personal@outlook.com'] }));
        const user = await directory.findUserByEmail('Pat.Personal@outlook.com');
        expect(user?.displayName).toBe('Partner 1');
      });

      it('finds a user by a secondary proxy address (smtp: alias)', async () => {
        fake.addUser(partnerGuest(2, { proxyAddresses: ['SMTP:partner2@northwind.example', 'smtp:p2@northwind.example'] }));
        const user = await directory.findUserByEmail('P2@NORTHWIND.example');
        expect(user?.displayName).toBe('Partner 2');
      });

      it('answers null for an address nobody has', async () => {
        expect(await directory.findUserByEmail('nobody@fabrikam.com')).toBeNull();
      });

      it('finds many at once, keyed by lower-cased address, leaving misses out', async () => {
        const found = await directory.findUsersByEmail(['Adele.Vance@contoso.com', 'lee.gu@fabrikam.com', 'ghost@example.org']);
        expect([...found.keys()].sort()).toEqual(['adele.vance@contoso.com', 'lee.gu@fabrikam.com']);
        expect(found.get('adele.vance@contoso.com')?.id).toBe(adele.id);
        expect(found.get('lee.gu@fabrikam.com')?.id).toBe(leeGu.id);
      });

      it('finds more addresses than one Graph batch holds', async () => {
        for (let n = 1; n <= 25; n++) fake.addUser(partnerGuest(n));
        const emails = Array.from({ length: 25 }, (_, i) => `partner${i + 1}@northwind.example`);
        const found = await directory.findUsersByEmail([...emails, 'ghost@example.org']);
        expect(found.size).toBe(25);
        expect(found.get('partner25@northwind.example')?.displayName).toBe('Partner 25');
      });

      it("reads a redeemed guest's state and how they redeemed (one-time passcode)", async () => {
        const user = await directory.getUser(jordan.id);
        expect(user).toMatchObject({
          kind: 'guest',
          externalUserState: 'Accepted',
          identities: [{ signInType: 'federated', issuer: 'mail' }],
        });
        expect(Date.parse(user?.externalUserStateChangeDateTime ?? '')).toBe(Date.parse('2024-11-04T16:20:00Z'));
      });

      it('reads a pending guest with no identities yet', async () => {
        const user = await directory.getUser(leeGu.id);
        expect(user).toMatchObject({ kind: 'guest', externalUserState: 'PendingAcceptance', identities: [] });
      });

      it('answers null for an unknown user id', async () => {
        expect(await directory.getUser('00000000-0000-4000-8000-000000000000')).toBeNull();
      });
    });

    describe('inviting', () => {
      const invitation = { displayName: 'Jane Doe', redirectUrl: SITE, sendInvitationMessage: false };

      it('invites a new address: a pending guest with a Graph redeem URL and an #EXT# name', async () => {
        const result = await directory.invite({ ...invitation, email: 'jane.doe@outlook.com' });
        expect(result.redeemUrl).toMatch(/^https:\/\/login\.microsoftonline\.com\/redeem\?rd=/);
        expect(result.status).toBe('PendingAcceptance');
        expect(result.invitationId).not.toBe('');

        const user = await directory.getUser(result.userId);
        expect(user).toMatchObject({
          displayName: 'Jane Doe',
          mail: 'jane.doe@outlook.com',
          userPrincipalName: 'jane.doe_outlook.com#EXT#@contoso.onmicrosoft.com',
          kind: 'guest',
          externalUserState: 'PendingAcceptance',
          identities: [],
        });
        expect((await directory.findUserByEmail('Jane.Doe@outlook.com'))?.id).toBe(result.userId);
      });

      it('re-inviting an existing guest returns the same user with a fresh redeem URL and creates nobody', async () => {
        const before = fake.snapshot().users.length;
        const first = await directory.invite({ ...invitation, email: 'Lee.Gu@fabrikam.com' });
        const second = await directory.invite({ ...invitation, email: 'lee.gu@fabrikam.com' });
        expect(first.userId).toBe(leeGu.id);
        expect(second.userId).toBe(leeGu.id);
        expect(second.redeemUrl).not.toBe(first.redeemUrl);
        expect(fake.snapshot().users).toHaveLength(before);
      });

      it("refuses an address in the tenant's own verified domain as invalid input, creating nobody", async () => {
        const before = fake.snapshot().users.length;
        const error = await rejection(directory.invite({ ...invitation, email: 'new.hire@contoso.com' }));
        expect(error.code).toBe('invalidInput');
        expect(error.userMessage).toMatch(/own domains/);
        expect(fake.snapshot().users).toHaveLength(before);
      });

      it('refuses a domain on the B2B block list as forbidden by policy, creating nobody', async () => {
        const before = fake.snapshot().users.length;
        const error = await rejection(directory.invite({ ...invitation, email: 'sam@litware.com' }));
        expect(error.code).toBe('forbiddenByPolicy');
        expect(error.retryable).toBe(false);
        expect(fake.snapshot().users).toHaveLength(before);
      });

      it('refuses a domain missing from a B2B allow list', async () => {
        fake.setPolicies({ b2bDomainPolicy: { mode: 'allowList', domains: ['fabrikam.com'] } });
        expect((await rejection(directory.invite({ ...invitation, email: 'sam@outlook.com' }))).code).toBe(
          'forbiddenByPolicy',
        );
        const allowed = await directory.invite({ ...invitation, email: 'new.person@fabrikam.com' });
        expect(allowed.userId).not.toBe('');
      });

      it('refuses every invitation when the tenant lets nobody invite', async () => {
        fake.setPolicies({ allowInvitesFrom: 'none' });
        const error = await rejection(directory.invite({ ...invitation, email: 'jane.doe@outlook.com' }));
        expect(error.code).toBe('forbiddenByPolicy');
        expect(await directory.findUserByEmail('jane.doe@outlook.com')).toBeNull();
      });

      it("shows the guest's redemption once they redeem (work or school account)", async () => {
        const { userId } = await directory.invite({ ...invitation, email: 'kim@fabrikam.com' });
        fake.redeem(userId, 'workOrSchoolAccount');
        const user = await directory.getUser(userId);
        expect(user?.externalUserState).toBe('Accepted');
        expect(user?.identities.map((i) => i.issuer)).toEqual(['ExternalAzureAD']);
      });

      it("records the SAML federation's issuer for a federated guest", async () => {
        const { userId } = await directory.invite({ ...invitation, email: 'pat@wingtiptoys.com' });
        fake.redeem(userId, 'samlWsFedFederation');
        expect((await directory.getUser(userId))?.identities[0]?.issuer).toBe(DEMO.samlIssuer);
      });

      it('resetting redemption puts the guest back to pending with a new redeem URL, same user', async () => {
        const result = await directory.resetRedemption(jordan.id, jordan.mail, SITE);
        expect(result.userId).toBe(jordan.id);
        expect(result.redeemUrl).toMatch(/^https:\/\/login\.microsoftonline\.com\/redeem\?rd=/);
        const user = await directory.getUser(jordan.id);
        expect(user).toMatchObject({ externalUserState: 'PendingAcceptance', identities: [] });
      });

      it('resetting redemption of an unknown user fails with notFound', async () => {
        const error = await rejection(
          directory.resetRedemption('00000000-0000-4000-8000-000000000000', 'who@outlook.com', SITE),
        );
        expect(error.code).toBe('notFound');
      });
    });

    describe('group membership', () => {
      it('adds a guest to a group, after which they are a member', async () => {
        const result = await directory.addMembers(projectFalcon.id, [leeGu.id]);
        expect(result).toEqual({ added: [leeGu.id], alreadyMembers: [], failed: [] });
        expect(await directory.isMember(projectFalcon.id, leeGu.id)).toBe(true);
      });

      it('reports someone already in the group as already a member, not as a failure', async () => {
        const result = await directory.addMembers(projectFalcon.id, [adele.id, leeGu.id]);
        expect(result.alreadyMembers).toEqual([adele.id]);
        expect(result.added).toEqual([leeGu.id]);
        expect(result.failed).toEqual([]);
      });

      it('reports an unknown user as failed with notFound and still adds the others', async () => {
        const unknown = '00000000-0000-4000-8000-00000000abcd';
        const result = await directory.addMembers(marketing.id, [unknown, adele.id]);
        expect(result.added).toEqual([adele.id]);
        expect(result.failed.map((f) => [f.userId, f.error.code])).toEqual([[unknown, 'notFound']]);
      });

      it('reports every user as failed with notFound when the group is unknown', async () => {
        const result = await directory.addMembers('00000000-0000-4000-8000-0000000000ff', [adele.id]);
        expect(result.added).toEqual([]);
        expect(result.failed.map((f) => f.error.code)).toEqual(['notFound']);
      });

      it('adds more users than one Graph request holds (over 20)', async () => {
        const ids: string[] = [];
        for (let n = 1; n <= 25; n++) {
          const guest = partnerGuest(n);
          fake.addUser(guest);
          ids.push(guest.id);
        }
        const result = await directory.addMembers(research.id, ids);
        expect([...result.added].sort()).toEqual([...ids].sort());
        expect(result.failed).toEqual([]);
        expect(fake.snapshot().groups.find((g) => g.id === research.id)?.members).toEqual(
          expect.arrayContaining(ids),
        );
      });

      it('answers who owns and who belongs to a group', async () => {
        expect(await directory.isOwner(projectFalcon.id, megan.id)).toBe(true);
        expect(await directory.isOwner(projectFalcon.id, adele.id)).toBe(false);
        expect(await directory.isMember(projectFalcon.id, jordan.id)).toBe(true);
        expect(await directory.isMember(research.id, megan.id)).toBe(false);
      });

      it('answers false, not an error, for a group that does not exist', async () => {
        const ghost = '00000000-0000-4000-8000-0000000000ff';
        expect(await directory.isOwner(ghost, megan.id)).toBe(false);
        expect(await directory.isMember(ghost, megan.id)).toBe(false);
      });
    });

    describe('groups', () => {
      it("lists the groups a site owner owns, with their sites", async () => {
        const groups = await directory.listOwnedGroups(megan.id);
        expect(groups.map((g) => g.displayName).sort()).toEqual(['Marketing', 'Project Falcon']);
        expect(groups.find((g) => g.id === projectFalcon.id)?.siteUrl).toBe(projectFalcon.siteUrl);
      });

      it('lists nothing for someone who owns nothing', async () => {
        expect(await directory.listOwnedGroups(adele.id)).toEqual([]);
      });

      it('lists every owned group even when Graph pages the answer', async () => {
        for (let n = 1; n <= 12; n++) {
          fake.addGroup(
            labGroup(n, {
              displayName: `Lab ${n.toString().padStart(2, '0')}`,
              mail: `lab${n}@contoso.com`,
              siteUrl: `https://contoso.sharepoint.com/sites/Lab${n}`,
              owners: [alex.id],
              members: [alex.id],
            }),
          );
        }
        const groups = await directory.listOwnedGroups(alex.id);
        expect(groups).toHaveLength(13);
        expect(groups.find((g) => g.displayName === 'Lab 12')?.siteUrl).toBe('https://contoso.sharepoint.com/sites/Lab12');
      });

      it('reads a group with its site, a group without a site, and an unknown group', async () => {
        expect(await directory.getGroup(research.id)).toEqual({
          id: research.id,
          displayName: 'Research',
          siteUrl: research.siteUrl,
          mail: 'research@contoso.com',
        });
        expect((await directory.getGroup(guestApprovers.id))?.siteUrl).toBeNull();
        expect(await directory.getGroup('00000000-0000-4000-8000-0000000000ff')).toBeNull();
      });
    });

    describe('listing members, owners and memberships', () => {
      const ghostGroup = '00000000-0000-4000-8000-0000000000ff';
      const ghostUser = '00000000-0000-4000-8000-000000000000';
      const sortedNames = (people: Array<{ displayName: string }>) => people.map((p) => p.displayName).sort();

      it("lists a group's members, guests included, by id and name", async () => {
        const members = await directory.listGroupMembers(projectFalcon.id);
        expect([...members].sort((a, b) => a.id.localeCompare(b.id))).toEqual([
          { id: megan.id, displayName: 'Megan Bowen' },
          { id: adele.id, displayName: 'Adele Vance' },
          { id: jordan.id, displayName: 'Jordan Lee' },
        ]);
        expect(sortedNames(await directory.listGroupMembers(guestApprovers.id))).toEqual(['Alex Wilber']);
      });

      it("lists a group's owners", async () => {
        expect(await directory.listGroupOwners(projectFalcon.id)).toEqual([{ id: megan.id, displayName: 'Megan Bowen' }]);
        expect(sortedNames(await directory.listGroupOwners(research.id))).toEqual(['Alex Wilber']);
      });

      it('lists a newly added member at once', async () => {
        await directory.addMembers(guestApprovers.id, [leeGu.id]);
        expect(sortedNames(await directory.listGroupMembers(guestApprovers.id))).toEqual(['Alex Wilber', 'Lee Gu']);
      });

      it('lists every member even when Graph pages the answer', async () => {
        const ids: string[] = [];
        for (let n = 1; n <= 12; n++) {
          const guest = partnerGuest(n);
          fake.addUser(guest);
          ids.push(guest.id);
        }
        fake.addGroup({
          id: 'd0d0d0d0-0000-4000-8000-0000000000aa',
          displayName: 'Big Partner Project',
          mail: 'bigpartner@contoso.com',
          siteUrl: 'https://contoso.sharepoint.com/sites/BigPartner',
          owners: [megan.id, adele.id],
          members: [megan.id, ...ids],
        });
        const members = await directory.listGroupMembers('d0d0d0d0-0000-4000-8000-0000000000aa');
        expect(members).toHaveLength(13);
        expect(members.map((m) => m.id).sort()).toEqual([megan.id, ...ids].sort());
        expect(members.find((m) => m.id === ids[11])?.displayName).toBe('Partner 12');
      });

      it('lists the groups a guest belongs to, without looking up their sites', async () => {
        const groups = await directory.listMemberGroups(jordan.id);
        expect(groups).toEqual([
          { id: projectFalcon.id, displayName: 'Project Falcon', mail: 'projectfalcon@contoso.com', siteUrl: null },
        ]);
      });

      it('lists every group someone belongs to, site or no site, even when Graph pages the answer', async () => {
        for (let n = 1; n <= 11; n++) {
          fake.addGroup(labGroup(n, { displayName: `Lab ${n.toString().padStart(2, '0')}`, members: [alex.id] }));
        }
        const groups = await directory.listMemberGroups(alex.id);
        expect(groups).toHaveLength(13);
        expect(groups.map((g) => g.displayName)).toEqual(expect.arrayContaining(['Research', 'Guest Approvers', 'Lab 11']));
        expect(groups.every((g) => g.siteUrl === null)).toBe(true);
      });

      it('lists no groups for someone in none', async () => {
        expect(await directory.listMemberGroups(leeGu.id)).toEqual([]);
      });

      it('fails with notFound for an unknown group or user', async () => {
        expect((await rejection(directory.listGroupMembers(ghostGroup))).code).toBe('notFound');
        expect((await rejection(directory.listGroupOwners(ghostGroup))).code).toBe('notFound');
        expect((await rejection(directory.listMemberGroups(ghostUser))).code).toBe('notFound');
      });
    });

    describe('policies and domains', () => {
      it("reads the demo tenant's policies", async () => {
        const policies = await directory.readPolicies();
        expect(policies).toEqual({
          tenantId: DEMO.tenantId,
          tenantDisplayName: 'Contoso (demo)',
          verifiedDomains: expect.arrayContaining(['contoso.com', 'contoso.onmicrosoft.com']),
          allowInvitesFrom: 'adminsGuestInvitersAndAllMembers',
          emailOtp: 'enabled',
          googleFederation: true,
          federatedDomains: [{ domain: 'wingtiptoys.com', issuerUri: DEMO.samlIssuer, displayName: 'Wingtip Toys' }],
          redemptionPrecedence: null,
          b2bDomainPolicy: { mode: 'blockList', domains: ['litware.com'] },
          sharePoint: {
            sharingCapability: 'externalUserAndGuestSharing',
            sharingDomainRestrictionMode: 'none',
            sharingAllowedDomainList: [],
            sharingBlockedDomainList: [],
          },
        });
        expect(policies.verifiedDomains).toHaveLength(2);
      });

      it('reads changed policies: OTP off, no Google, a custom redemption order, an allow list, restricted sharing', async () => {
        fake.setPolicies({
          emailOtp: 'disabled',
          googleFederation: false,
          redemptionPrecedence: {
            primaryIdentityProviderPrecedenceOrder: ['externalFederation', 'azureActiveDirectory', 'socialIdentityProviders'],
            fallbackIdentityProvider: 'microsoftAccount',
          },
          b2bDomainPolicy: { mode: 'allowList', domains: ['fabrikam.com', 'tailspintoys.com'] },
          sharePoint: {
            sharingCapability: 'existingExternalUserSharingOnly',
            sharingDomainRestrictionMode: 'blockList',
            sharingAllowedDomainList: [],
            sharingBlockedDomainList: ['litware.com'],
          },
        });
        const policies = await directory.readPolicies();
        expect(policies.emailOtp).toBe('disabled');
        expect(policies.googleFederation).toBe(false);
        expect(policies.redemptionPrecedence).toEqual({
          primaryIdentityProviderPrecedenceOrder: ['externalFederation', 'azureActiveDirectory', 'socialIdentityProviders'],
          fallbackIdentityProvider: 'microsoftAccount',
        });
        expect(policies.b2bDomainPolicy).toEqual({ mode: 'allowList', domains: ['fabrikam.com', 'tailspintoys.com'] });
        expect(policies.sharePoint.sharingCapability).toBe('existingExternalUserSharingOnly');
        expect(policies.sharePoint.sharingBlockedDomainList).toEqual(['litware.com']);
      });

      it('reads a tenant with neither allow nor block list', async () => {
        fake.setPolicies({ b2bDomainPolicy: { mode: 'none' } });
        expect((await directory.readPolicies()).b2bDomainPolicy).toEqual({ mode: 'none' });
      });

      it('finds the managed Entra tenant behind a domain, whatever the case', async () => {
        expect(await directory.lookupExternalDomain('Fabrikam.COM')).toEqual({
          domain: 'fabrikam.com',
          managedTenant: { tenantId: DEMO.externalTenants.fabrikam.tenantId, displayName: 'Fabrikam' },
        });
      });

      it('answers no managed tenant for a consumer or SAML-only domain', async () => {
        expect((await directory.lookupExternalDomain('outlook.com')).managedTenant).toBeNull();
        expect((await directory.lookupExternalDomain('wingtiptoys.com')).managedTenant).toBeNull();
      });
    });
  });
}
