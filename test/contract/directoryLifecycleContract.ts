/**
 * The guest lifecycle half of the Directory contract: sponsors, a guest's lifecycle facts,
 * blocking sign-in, deleting a guest, leaving a group, and the refusal when Graph withholds a
 * permission. Observed only through the Directory interface; arranged through FakeDirectory's
 * hooks (for GraphDirectory, the fake is the tenant behind the Graph-shaped server).
 */
import { DirectoryError, permissionRefusal, type Directory } from '../../src/usecases/ports/Directory';
import { DEMO } from '../../src/adapters/demo/demoTenant';
import { DEMO_NOW, labGroup, partnerGuest } from '../support/directory';
import type { DirectoryUnderTest } from './directoryContract';
import type { FakeDirectory } from '../../src/adapters/demo/FakeDirectory';

const { megan, adele, alex, jordan, leeGu } = DEMO.users;
const { projectFalcon, guestApprovers } = DEMO.groups;
const SITE = projectFalcon.siteUrl;
const GHOST = '00000000-0000-4000-8000-000000000000';
const GHOST_GROUP = '00000000-0000-4000-8000-0000000000ff';

async function rejection(promise: Promise<unknown>): Promise<DirectoryError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof DirectoryError) return e;
    throw new Error(`expected a DirectoryError, got ${String(e)}`, { cause: e });
  }
  throw new Error('expected the call to fail, but it succeeded');
}

export function describeLifecycleContract(name: string, makeDirectory: () => Promise<DirectoryUnderTest>): void {
  describe(`Directory lifecycle contract: ${name}`, () => {
    let directory: Directory;
    let fake: FakeDirectory;
    let close: () => Promise<void>;

    beforeEach(async () => {
      ({ directory, fake, close } = await makeDirectory());
    });
    afterEach(async () => {
      await close();
    });

    const sponsorIds = async (userId: string) => (await directory.listSponsors(userId)).map((s) => s.id).sort();
    const invitation = { displayName: 'Jane Doe', redirectUrl: SITE, sendInvitationMessage: false };

    describe('sponsors', () => {
      it('makes the inviting owner the new guest’s sponsor with the invitation itself', async () => {
        const result = await directory.invite({ ...invitation, email: 'jane.doe@outlook.com', sponsorIds: [megan.id] });
        expect(result.sponsorsSet).toBe(true);
        expect(await directory.listSponsors(result.userId)).toEqual([
          { id: megan.id, displayName: 'Megan Bowen', kind: 'user', accountEnabled: true },
        ]);
      });

      it('still invites when a sponsor is refused, and says the sponsors were not set', async () => {
        const result = await directory.invite({ ...invitation, email: 'jane.doe@outlook.com', sponsorIds: [GHOST] });
        expect(result.sponsorsSet).toBe(false);
        expect(result.redeemUrl).toMatch(/^https:\/\/login\.microsoftonline\.com\/redeem\?rd=/);
        expect((await directory.getUser(result.userId))?.mail).toBe('jane.doe@outlook.com');
        expect(await directory.listSponsors(result.userId)).toEqual([]);
      });

      it('re-inviting an existing guest with a sponsor adds that sponsor', async () => {
        const result = await directory.invite({ ...invitation, email: leeGu.mail, sponsorIds: [alex.id] });
        expect(result.userId).toBe(leeGu.id);
        expect(await sponsorIds(leeGu.id)).toEqual([alex.id]);
      });

      it('adds a sponsor to an existing guest once: a repeat answers "already a sponsor"', async () => {
        expect(await directory.addSponsor(jordan.id, megan.id)).toBe('added');
        expect(await directory.addSponsor(jordan.id, megan.id)).toBe('alreadySponsor');
        expect(await sponsorIds(jordan.id)).toEqual([megan.id]);
      });

      it('lists a group sponsor as a group, with no sign-in state', async () => {
        await directory.addSponsor(jordan.id, guestApprovers.id);
        expect(await directory.listSponsors(jordan.id)).toEqual([
          { id: guestApprovers.id, displayName: 'Guest Approvers', kind: 'group', accountEnabled: null },
        ]);
      });

      it('fails with notFound for an unknown guest or an unknown sponsor', async () => {
        expect((await rejection(directory.addSponsor(GHOST, megan.id))).code).toBe('notFound');
        expect((await rejection(directory.addSponsor(jordan.id, GHOST))).code).toBe('notFound');
        expect((await rejection(directory.listSponsors(GHOST))).code).toBe('notFound');
        expect((await rejection(directory.removeSponsor(GHOST, megan.id))).code).toBe('notFound');
      });

      it('removes a sponsor once: a repeat answers "not a sponsor"', async () => {
        await directory.addSponsor(jordan.id, megan.id);
        await directory.addSponsor(jordan.id, adele.id);
        expect(await directory.removeSponsor(jordan.id, megan.id)).toBe('removed');
        expect(await directory.removeSponsor(jordan.id, megan.id)).toBe('notSponsor');
        expect(await sponsorIds(jordan.id)).toEqual([adele.id]);
      });

      it('hands sponsorship over, and a replayed hand-over changes nothing more', async () => {
        await directory.addSponsor(jordan.id, megan.id);
        await directory.replaceSponsor(jordan.id, megan.id, alex.id);
        expect(await sponsorIds(jordan.id)).toEqual([alex.id]);
        await directory.replaceSponsor(jordan.id, megan.id, alex.id);
        expect(await sponsorIds(jordan.id)).toEqual([alex.id]);
      });

      it('hands sponsorship to someone when the guest had none', async () => {
        await directory.replaceSponsor(leeGu.id, null, adele.id);
        expect(await sponsorIds(leeGu.id)).toEqual([adele.id]);
      });

      it('lists every sponsor even when Graph pages the answer', async () => {
        const ids: string[] = [];
        for (let n = 1; n <= 7; n++) {
          const person = partnerGuest(n, { kind: 'member', externalUserState: null, externalUserStateChangeDateTime: null });
          fake.addUser(person);
          ids.push(person.id);
          await directory.addSponsor(jordan.id, person.id);
        }
        expect(await sponsorIds(jordan.id)).toEqual([...ids].sort());
      });
    });

    describe('a sponsor who has left', () => {
      it('is active while they are here, disabled once their sign-in is blocked, not found once deleted', async () => {
        expect(await directory.accountStatus(megan.id)).toBe('active');
        fake.setAccountEnabled(megan.id, false);
        expect(await directory.accountStatus(megan.id)).toBe('disabled');
        fake.removeUser(adele.id);
        expect(await directory.accountStatus(adele.id)).toBe('notFound');
        expect(await directory.accountStatus(GHOST)).toBe('notFound');
      });

      it("shows in the guest's sponsor list: a blocked sponsor as disabled, a deleted one no more", async () => {
        await directory.addSponsor(jordan.id, megan.id);
        await directory.addSponsor(jordan.id, adele.id);
        fake.setAccountEnabled(megan.id, false);
        fake.removeUser(adele.id);
        expect(await directory.listSponsors(jordan.id)).toEqual([
          { id: megan.id, displayName: 'Megan Bowen', kind: 'user', accountEnabled: false },
        ]);
      });
    });

    describe("a guest's lifecycle facts", () => {
      it('reads a guest who never redeemed: pending since the invitation, sign-in allowed, in no group', async () => {
        expect(await directory.getGuestLifecycle(leeGu.id)).toEqual({
          userId: leeGu.id,
          kind: 'guest',
          externalUserState: 'PendingAcceptance',
          externalUserStateChangeDateTime: expect.any(String),
          accountEnabled: true,
          createdDateTime: expect.any(String),
          memberOf: [],
        });
      });

      it('reads a redeemed guest with the groups they are in', async () => {
        const facts = await directory.getGuestLifecycle(jordan.id);
        expect(facts?.externalUserState).toBe('Accepted');
        expect(Date.parse(facts?.externalUserStateChangeDateTime ?? '')).toBe(Date.parse('2024-11-04T16:20:00Z'));
        expect(facts?.memberOf).toEqual([
          { id: projectFalcon.id, displayName: 'Project Falcon', mail: 'projectfalcon@contoso.com', siteUrl: null },
        ]);
      });

      it('dates a new guest from the invitation, and lists every group even when Graph pages them', async () => {
        const { userId } = await directory.invite({ ...invitation, email: 'kim@fabrikam.com' });
        for (let n = 1; n <= 6; n++) fake.addGroup(labGroup(n, { members: [userId] }));
        const facts = await directory.getGuestLifecycle(userId);
        expect(Date.parse(facts?.createdDateTime ?? '')).toBe(Date.parse(DEMO_NOW));
        expect(Date.parse(facts?.externalUserStateChangeDateTime ?? '')).toBe(Date.parse(DEMO_NOW));
        expect(facts?.memberOf).toHaveLength(6);
      });

      it('answers null for a user who does not exist', async () => {
        expect(await directory.getGuestLifecycle(GHOST)).toBeNull();
      });
    });

    describe('blocking sign-in', () => {
      it('blocks and unblocks a guest; setting the current value again is success', async () => {
        await directory.setGuestSignIn(jordan.id, false);
        expect((await directory.getGuestLifecycle(jordan.id))?.accountEnabled).toBe(false);
        expect(await directory.accountStatus(jordan.id)).toBe('disabled');
        await directory.setGuestSignIn(jordan.id, false);
        await directory.setGuestSignIn(jordan.id, true);
        expect((await directory.getGuestLifecycle(jordan.id))?.accountEnabled).toBe(true);
      });

      it('refuses to block a member of the organisation, changing nothing', async () => {
        const error = await rejection(directory.setGuestSignIn(megan.id, false));
        expect(error.code).toBe('invalidInput');
        expect(error.userMessage).toMatch(/only guest/i);
        expect(await directory.accountStatus(megan.id)).toBe('active');
      });

      it('fails with notFound for a user who does not exist', async () => {
        expect((await rejection(directory.setGuestSignIn(GHOST, false))).code).toBe('notFound');
      });
    });

    describe('deleting a guest', () => {
      it('deletes a guest, who is then found by neither id nor address; a repeat answers "already gone"', async () => {
        expect(await directory.deleteGuest(leeGu.id)).toBe('deleted');
        expect(await directory.getUser(leeGu.id)).toBeNull();
        expect(await directory.findUserByEmail(leeGu.mail)).toBeNull();
        expect(await directory.deleteGuest(leeGu.id)).toBe('alreadyGone');
      });

      it("takes the deleted guest out of the site's group", async () => {
        await directory.deleteGuest(jordan.id);
        expect((await directory.listGroupMembers(projectFalcon.id)).map((m) => m.id)).not.toContain(jordan.id);
      });

      it('refuses to delete a member of the organisation', async () => {
        const error = await rejection(directory.deleteGuest(adele.id));
        expect(error.code).toBe('invalidInput');
        expect((await directory.getUser(adele.id))?.displayName).toBe('Adele Vance');
      });
    });

    describe("removing a guest from the site's group", () => {
      it('removes them once: a repeat, or a group that does not exist, answers "not a member"', async () => {
        expect(await directory.removeMember(projectFalcon.id, jordan.id)).toBe('removed');
        expect(await directory.isMember(projectFalcon.id, jordan.id)).toBe(false);
        expect((await directory.getGuestLifecycle(jordan.id))?.memberOf).toEqual([]);
        expect(await directory.removeMember(projectFalcon.id, jordan.id)).toBe('notMember');
        expect(await directory.removeMember(GHOST_GROUP, jordan.id)).toBe('notMember');
        expect(await directory.getUser(jordan.id)).not.toBeNull();
      });
    });

    describe('when Graph withholds a permission', () => {
      it('refuses blocking sign-in without User.EnableDisableAccount.All, naming the action, changing nothing', async () => {
        fake.denyPermission('User.EnableDisableAccount.All');
        const error = await rejection(directory.setGuestSignIn(jordan.id, false));
        expect(error.code).toBe('permissionMissing');
        expect(permissionRefusal(error)).toEqual({ action: 'blockSignIn', permission: 'User.EnableDisableAccount.All' });
        expect(error.userMessage).toMatch(/administrator must grant it/);
        expect(await directory.accountStatus(jordan.id)).toBe('active');
      });

      it('refuses sponsor changes and deletion without User.ReadWrite.All, changing nothing', async () => {
        fake.denyPermission('User.ReadWrite.All');
        expect(permissionRefusal(await rejection(directory.addSponsor(jordan.id, megan.id)))).toEqual({
          action: 'addSponsor',
          permission: 'User.ReadWrite.All',
        });
        expect(permissionRefusal(await rejection(directory.removeSponsor(jordan.id, megan.id)))).toEqual({
          action: 'removeSponsor',
          permission: 'User.ReadWrite.All',
        });
        expect(permissionRefusal(await rejection(directory.deleteGuest(leeGu.id)))).toEqual({
          action: 'deleteGuest',
          permission: 'User.ReadWrite.All',
        });
        expect(await directory.listSponsors(jordan.id)).toEqual([]);
        expect(await directory.getUser(leeGu.id)).not.toBeNull();
      });

      it('refuses leaving the group without GroupMember.ReadWrite.All', async () => {
        fake.denyPermission('GroupMember.ReadWrite.All');
        expect(permissionRefusal(await rejection(directory.removeMember(projectFalcon.id, jordan.id)))).toEqual({
          action: 'removeMember',
          permission: 'GroupMember.ReadWrite.All',
        });
        expect(await directory.isMember(projectFalcon.id, jordan.id)).toBe(true);
      });

      it('is no refusal for other failures', async () => {
        expect(permissionRefusal(await rejection(directory.setGuestSignIn(megan.id, false)))).toBeNull();
        expect(permissionRefusal(new Error('boom'))).toBeNull();
      });
    });

    describe('last sign-in (signInActivity)', () => {
      const interactive = '2026-10-02T08:15:00Z';
      const nonInteractive = '2026-11-28T17:40:00Z';

      it('reads the interactive, non-interactive and successful sign-ins as Entra recorded them', async () => {
        fake.setSignInActivity(jordan.id, {
          lastSignInDateTime: interactive,
          lastNonInteractiveSignInDateTime: nonInteractive,
          lastSuccessfulSignInDateTime: nonInteractive,
        });
        expect(await directory.getSignInActivity(jordan.id)).toEqual({
          kind: 'known',
          activity: { lastSignInDateTime: interactive, lastNonInteractiveSignInDateTime: nonInteractive, lastSuccessfulSignInDateTime: nonInteractive },
        });
      });

      it('keeps a missing field missing (no successful sign-in recorded before December 2023)', async () => {
        fake.setSignInActivity(jordan.id, { lastSignInDateTime: null, lastNonInteractiveSignInDateTime: nonInteractive, lastSuccessfulSignInDateTime: null });
        expect(await directory.getSignInActivity(jordan.id)).toEqual({
          kind: 'known',
          activity: { lastSignInDateTime: null, lastNonInteractiveSignInDateTime: nonInteractive, lastSuccessfulSignInDateTime: null },
        });
      });

      it('answers all nulls for a guest who never signed in (Graph sends signInActivity: null)', async () => {
        fake.setSignInActivity(leeGu.id, null);
        expect(await directory.getSignInActivity(leeGu.id)).toEqual({
          kind: 'known',
          activity: { lastSignInDateTime: null, lastNonInteractiveSignInDateTime: null, lastSuccessfulSignInDateTime: null },
        });
      });

      it('is null for a user who does not exist', async () => {
        expect(await directory.getSignInActivity(GHOST)).toBeNull();
      });

      it('is unavailable, not an error and not "never", without AuditLog.Read.All', async () => {
        fake.setSignInActivity(jordan.id, { lastSignInDateTime: interactive, lastNonInteractiveSignInDateTime: null, lastSuccessfulSignInDateTime: null });
        fake.denyPermission('AuditLog.Read.All');
        expect(await directory.getSignInActivity(jordan.id)).toEqual({ kind: 'unavailable', reason: 'permissionMissing' });
        // The rest of the user is still readable: only the sign-ins need the extra permission.
        expect((await directory.getUser(jordan.id))?.id).toBe(jordan.id);
      });

      it('is unavailable in a tenant without Microsoft Entra ID P1 or P2', async () => {
        fake.setSignInActivity(jordan.id, { lastSignInDateTime: interactive, lastNonInteractiveSignInDateTime: null, lastSuccessfulSignInDateTime: null });
        fake.setEntraIdPremium(false);
        expect(await directory.getSignInActivity(jordan.id)).toEqual({ kind: 'unavailable', reason: 'licenceMissing' });
      });
    });
  });
}
