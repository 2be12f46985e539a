import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import draft06 from 'ajv/dist/refs/json-schema-draft-06.json';
import type { Activity } from 'botbuilder';
import { ComponentDialog, TextPrompt, WaterfallDialog } from 'botbuilder-dialogs';
import type { BotFeature } from '../../src/teams/bot/feature';
import { createGuestHelpFeature } from '../../src/teams/guestHelp/guestHelpFeature';
import { classifyGuestQuestion } from '../../src/usecases/guestHelp/questions';
import { DirectoryError } from '../../src/usecases/ports/Directory';
import { invitationMigrations, SqliteInvitationRepository } from '../../src/adapters/sqlite/invitations';
import { resetRequestMigrations, SqliteResetRequestRepository } from '../../src/adapters/sqlite/resetRequests';
import { SignInAdvisor } from '../../src/usecases/signIn/signInAdvisor';
import { DEMO, demoDirectory } from '../support/directory';
import { featureHarness, visibleText, type Person } from '../support/guestHelpHarness';
import { memoryStore } from '../support/store';

const JORDAN: Person = DEMO.users.jordan;
const MEGAN: Person = DEMO.users.megan;
const LEE_GU: Person = DEMO.users.leeGu;
const LINK = `https://myapps.microsoft.com/?tenantid=${DEMO.tenantId}`;

/** Stands in for the invitation flow: asks for a name, then an address, then says what it got. */
class StandInInviteDialog extends ComponentDialog {
  constructor() {
    super('standInInvite');
    this.addDialog(new TextPrompt('text'));
    this.addDialog(
      new WaterfallDialog('steps', [
        (step) => step.prompt('text', "What is the guest's name?"),
        async (step) => {
          (step.values as Record<string, unknown>).name = step.result;
          return step.prompt('text', "What is the guest's email address?");
        },
        async (step) => {
          await step.context.sendActivity(`Inviting ${String((step.values as Record<string, unknown>).name)} <${String(step.result)}>`);
          return step.endDialog();
        },
      ]),
    );
    this.initialDialogId = 'steps';
  }
}

const standInInvite: BotFeature = {
  name: 'standInInvite',
  dialogs: [new StandInInviteDialog()],
  async onMessage(dc, text) {
    if (text !== 'invite') return false;
    await dc.beginDialog('standInInvite');
    return true;
  },
};

function setup() {
  const directory = demoDirectory();
  const store = memoryStore([...invitationMigrations, ...resetRequestMigrations]);
  let now = '2025-01-10T09:00:00.000Z';
  const invitations = new SqliteInvitationRepository(store.db, { clock: { now: () => new Date(now) } });
  const resetRequests = new SqliteResetRequestRepository(store.db, { now: () => new Date('2025-01-15T09:00:00Z') }, store.audit);
  const logged: unknown[][] = [];
  const logger = { info: (...args: unknown[]) => logged.push(args), warn: (...args: unknown[]) => logged.push(args) };
  const feature = createGuestHelpFeature({
    directory,
    advisor: new SignInAdvisor(directory),
    resetRequests,
    invitations,
    logger,
  });
  const bot = featureHarness([standInInvite, feature]);
  return {
    directory,
    store,
    bot,
    logged,
    say: (person: Person, text: string) => bot.say(person, text, DEMO.tenantId),
    /** Records that `by` invited `guest` (by address) to `group`, as the invitation flow leaves it. */
    async recordInvitation(
      by: Person,
      guest: { id: string; mail: string },
      group: { id: string; displayName: string; siteUrl: string | null },
      at: string,
      state: 'completed' | 'failed' = 'completed',
    ) {
      now = at;
      const { record } = await invitations.claim({
        tenantId: DEMO.tenantId,
        emailNormalised: guest.mail,
        groupId: group.id,
        emailDisplay: guest.mail,
        displayName: 'Guest',
        siteName: group.displayName,
        siteUrl: group.siteUrl ?? '',
        requestedBy: { id: by.id, name: by.displayName },
      });
      await invitations.update(record.id, record.version, { state, userId: state === 'completed' ? guest.id : null });
    },
    /** Takes the user out of the group in the fake tenant, as an owner removing them would. */
    removeFromGroup(userId: string, groupId: string) {
      const group = directory.state.group(groupId);
      if (!group) throw new Error(`no group ${groupId}`);
      group.members = group.members.filter((m) => m !== userId);
    },
  };
}

function cardOf(replies: ReadonlyArray<Partial<Activity>>): Record<string, unknown> {
  const card = replies.flatMap((r) => r.attachments ?? [])[0]?.content as Record<string, unknown> | undefined;
  if (!card) throw new Error(`expected a card, got: ${visibleText(replies)}`);
  return card;
}

describe('guest help through the bot', () => {
  it('Jordan (OTP guest, Tailspin Toys now on Entra) asks "why did I get a code?" and gets the facts and the reset advice', async () => {
    const { say } = setup();
    const replies = await say(JORDAN, 'why did I get a code?');
    const shown = visibleText(replies);
    expect(shown).toContain('30 minutes');
    expect(shown).toContain('24 hours');
    expect(shown).toContain(LINK);
    // The link is given once (the button), not again in the text.
    expect(shown.split(LINK)).toHaveLength(2);
    expect(shown).toMatch(/Sign-in options\W+, then \W+Sign in to an organization/);
    expect(shown).not.toMatch(/fail for passcode guests/);
    expect(shown).toMatch(/tailspintoys\.com now has Microsoft Entra ID/);
    expect(shown).toMatch(/until an admin resets your sign-in/);
    const card = cardOf(replies);
    expect(card.fallbackText).toBeTruthy();
    expect(JSON.stringify(card.actions)).toContain('"verb":"guestHelp.requestReset"');
    expect(JSON.stringify(card.actions)).toContain('Ask an admin to reset my sign-in');
  });

  it('"code expired" is understood as the same question', async () => {
    const { say } = setup();
    expect(visibleText(await say(JORDAN, 'my code expired'))).toContain('30 minutes');
  });

  it('Jordan asks "how do I sync?" and is told plainly sync is unavailable with OTP, and what works instead', async () => {
    const { say } = setup();
    const shown = visibleText(await say(JORDAN, 'how do I sync?'));
    expect(shown).toMatch(/Sync is not available to you\. You sign in with one-time passcodes/);
    expect(shown).toMatch(/browser/);
    expect(shown).toMatch(/Files tab of the team/);
    expect(shown).not.toMatch(/select Sync/);
  });

  it('a guest who redeemed through SAML federation is told "your organisation\'s own sign-in", with no stray article', async () => {
    const { say, directory } = setup();
    const pat: Person = { id: '6f1c2b3a-0099-4c5d-8e9f-0a1b2c3d4e99', displayName: 'Pat Kim' };
    directory.addUser({
      ...pat,
      mail: 'pat@wingtiptoys.com',
      userPrincipalName: 'pat_wingtiptoys.com#EXT#@contoso.onmicrosoft.com',
      otherMails: ['pat@wingtiptoys.com'],
      proxyAddresses: ['SMTP:pat@wingtiptoys.com'],
      kind: 'guest',
      externalUserState: 'Accepted',
      externalUserStateChangeDateTime: '2024-11-04T16:20:00Z',
      identities: [{ signInType: 'federated', issuer: DEMO.samlIssuer, issuerAssignedId: 'pat@wingtiptoys.com' }],
    });
    const sync = visibleText(await say(pat, 'how do I sync?'));
    expect(sync).toContain("Sync is not available to you. You sign in through your organisation's own sign-in (SAML/WS-Fed federation)");
    const code = visibleText(await say(pat, 'why did I get a code?'));
    expect(code).toContain("with your organisation's own sign-in (SAML/WS-Fed federation), not with guest one-time passcodes");
    expect(`${sync}\n${code}`).not.toMatch(/\b(a|your) (a|their|your)\b/);
  });

  it('a member asking how to sync is not given the guest story', async () => {
    const { say } = setup();
    expect(visibleText(await say(MEGAN, 'how do I sync this library?'))).toMatch(/You are a member of Contoso \(demo\)/);
  });

  it('"I lost access" from a passcode guest speaks of the browser and Teams, not of OneDrive sync they never had', async () => {
    const { say } = setup();
    const shown = visibleText(await say(JORDAN, 'I lost access to the site'));
    expect(shown).not.toMatch(/could not be synced|OneDrive|stay on your device/);
    expect(shown).toMatch(/the site or files say you do not have access/);
    expect(shown).toMatch(/Sign in to an organization/);
    expect(shown).toMatch(/owner/);
  });

  it('Jordan says "I lost access" and is told he is still in Project Falcon, owned by Megan Bowen', async () => {
    const { say } = setup();
    const replies = await say(JORDAN, 'I lost access');
    const shown = visibleText(replies);
    expect(shown).toMatch(/You are still a member of 1 team or group in Contoso \(demo\)/);
    const body = JSON.stringify(cardOf(replies).body);
    expect(body).toContain('Where you are still a member');
    expect(body).toContain('"text":"• Project Falcon"');
    expect(body).toContain('"text":"Megan Bowen"');
    // Groups he is not in are not offered.
    expect(shown).not.toMatch(/Marketing|Research/);
  });

  describe('sync and lost-access answers fit how the guest signs in', () => {
    const PAT = { id: '6f1c2b3a-0099-4c5d-8e9f-0a1b2c3d4e99', displayName: 'Pat Kim' };
    function addGuest(directory: ReturnType<typeof demoDirectory>, mail: string, issuer: string | null) {
      directory.addUser({
        ...PAT,
        mail,
        userPrincipalName: `${mail.replace('@', '_')}#EXT#@contoso.onmicrosoft.com`,
        otherMails: [mail],
        proxyAddresses: [`SMTP:${mail}`],
        kind: 'guest',
        externalUserState: issuer ? 'Accepted' : 'PendingAcceptance',
        externalUserStateChangeDateTime: '2024-11-04T16:20:00Z',
        identities: issuer ? [{ signInType: 'federated', issuer, issuerAssignedId: mail }] : [],
      });
    }
    it.each([
      // [how they sign in, address, issuer, sync title, sync says, sync never says, lost access says, lost access never says]
      ['work account', 'pat@fabrikam.com', 'ExternalAzureAD', 'Syncing shared files with OneDrive', /select Sync/, /Accept the invitation first/, /One or more libraries could not be synced[\s\S]*stay on your device/, /Sign in to an organization/],
      ['Microsoft account', 'pat@outlook.com', 'MicrosoftAccount', 'Working with the shared files', /You sign in with a personal Microsoft account, and OneDrive B2B Sync needs/, /What sync needs|select Sync/, /do not have access/, /OneDrive|stay on your device/],
      ['Google', 'pat@gmail.com', 'google.com', 'Working with the shared files', /You sign in with a Google account, and OneDrive B2B Sync needs/, /What sync needs|select Sync|Syncing shared files/, /do not have access/, /OneDrive|stay on your device/],
      ['SAML/WS-Fed', 'pat@wingtiptoys.com', DEMO.samlIssuer, 'Working with the shared files', /your organisation's own sign-in \(SAML\/WS-Fed federation\), not with a Microsoft Entra/, /What sync needs|select Sync/, /do not have access/, /OneDrive|stay on your device/],
      ['one-time passcode', 'pat@example.org', 'mail', 'Working with the shared files', /You sign in with one-time passcodes/, /What sync needs|select Sync/, /Sign in to an organization/, /OneDrive|stay on your device/],
      ['not yet redeemed (work account likely)', 'pat@fabrikam.com', null, 'Syncing shared files with OneDrive', /Accept the invitation first/, /Sync is not available/, /You have not accepted your invitation yet/, /stay on your device on/],
      ['not yet redeemed (code likely)', 'pat@example.org', null, 'Working with the shared files', /You have not accepted your invitation yet/, /select Sync|What sync needs/, /You have not accepted your invitation yet/, /OneDrive|stay on your device/],
    ])('%s', async (_how, mail, issuer, title, syncSays, syncNever, lostSays, lostNever) => {
      const { say, directory } = setup();
      addGuest(directory, mail, issuer);
      const sync = visibleText(await say(PAT, 'how do I sync?'));
      expect(sync).toContain(title);
      expect(sync).toMatch(syncSays);
      expect(sync).not.toMatch(syncNever);
      const lost = visibleText(await say(PAT, 'I lost access'));
      expect(lost).toMatch(lostSays);
      expect(lost).not.toMatch(lostNever);
    });

    it.each([
      ['Google federation removed', 'pat@gmail.com', 'google.com', (d: ReturnType<typeof demoDirectory>) => d.setPolicies({ googleFederation: false }), /removed Google federation/],
      ['one-time passcode turned off', 'pat@example.org', 'mail', (d: ReturnType<typeof demoDirectory>) => d.setPolicies({ emailOtp: 'disabled' }), /turned email one-time passcode off/],
    ])('%s: the guest is told they cannot sign in until an admin resets their redemption, with the button', async (_name, mail, issuer, change, why) => {
      const { say, directory } = setup();
      addGuest(directory, mail, issuer);
      change(directory);
      const code = await say(PAT, 'why did I get a code?');
      expect(visibleText(code)).toContain('You cannot sign in until an admin resets your sign-in');
      expect(visibleText(code)).toMatch(why);
      expect(JSON.stringify(cardOf(code).actions)).toContain('guestHelp.requestReset');
      const sync = await say(PAT, 'how do I sync?');
      expect(visibleText(sync)).toContain('You cannot sign in right now');
      expect(JSON.stringify(cardOf(sync).actions)).toContain('guestHelp.requestReset');
      expect(visibleText(await say(PAT, 'I lost access'))).toMatch(/ask an admin to reset your sign-in \(redemption\)/);
      expect(visibleText(await say(PAT, `what sign-in will ${mail} get?`))).toMatch(/cannot sign in any more[\s\S]*An admin must reset their redemption|Ask an admin to reset your sign-in \(redemption\)/);
    });
  });

  it('names who invited Jordan and to which site, from the invitation records of his address only', async () => {
    const { say, recordInvitation } = setup();
    const jordan = { id: JORDAN.id, mail: 'jordan.lee@tailspintoys.com' };
    await recordInvitation(MEGAN, jordan, DEMO.groups.projectFalcon, '2025-01-10T09:00:00.000Z');
    await recordInvitation(DEMO.users.alex, jordan, DEMO.groups.research, '2025-01-08T09:00:00.000Z');
    // Someone else's invitation, and one that never reached the directory, are not his story.
    await recordInvitation(DEMO.users.alex, { id: LEE_GU.id, mail: 'lee.gu@fabrikam.com' }, DEMO.groups.marketing, '2025-01-09T09:00:00.000Z');
    await recordInvitation(DEMO.users.adele, jordan, DEMO.groups.marketing, '2025-01-11T09:00:00.000Z', 'failed');
    const shown = visibleText(await say(JORDAN, 'I lost access'));
    expect(shown).toContain('Megan Bowen invited you to Project Falcon on 2025-01-10.');
    expect(shown).toContain('Alex Wilber invited you to Research on 2025-01-08. You are not a member there now.');
    expect(shown).toContain('Megan Bowen, who invited you.');
    expect(shown).not.toMatch(/Marketing|Adele Vance/);
  });

  it('once removed from Project Falcon, Jordan is told plainly he is no longer a member of any site, and whom to ask', async () => {
    const { say, recordInvitation, removeFromGroup } = setup();
    await recordInvitation(MEGAN, { id: JORDAN.id, mail: 'jordan.lee@tailspintoys.com' }, DEMO.groups.projectFalcon, '2025-01-10T09:00:00.000Z');
    removeFromGroup(JORDAN.id, DEMO.groups.projectFalcon.id);
    const replies = await say(JORDAN, 'I lost access');
    const shown = visibleText(replies);
    expect(shown).toMatch(/You are no longer a member of any team or site in Contoso \(demo\): access to those sites was removed/);
    expect(shown).not.toContain('Where you are still a member');
    expect(shown).toContain('Megan Bowen invited you to Project Falcon on 2025-01-10. You are not a member there now.');
    expect(shown).toContain('Megan Bowen, who invited you: ask them to add you back.');
    // A passcode guest never synced: nothing about synced copies.
    expect(shown).not.toMatch(/stay on your device/);
  });

  it('removed from every group and with no invitation on record, Jordan is told to ask the person who invited him', async () => {
    const { say, removeFromGroup } = setup();
    removeFromGroup(JORDAN.id, DEMO.groups.projectFalcon.id);
    const shown = visibleText(await say(JORDAN, 'I lost access'));
    expect(shown).toMatch(/no longer a member of any team or site/);
    expect(shown).toContain('The person who invited you: ask them to add you back.');
  });

  it.each([
    ['listMemberGroups', new DirectoryError('transient', 'Microsoft Graph is not answering just now.')],
    ['listGroupOwners', new DirectoryError('permissionMissing', 'The bot lacks a permission.', { permission: 'GroupMember.Read.All' })],
    ['getUser', new Error('socket hang up')],
  ] as const)('when %s fails, "I lost access" gets the generic answer and the log names no one', async (method, error) => {
    const { say, directory, logged } = setup();
    directory.failNext(method, error);
    const replies = await say(JORDAN, 'I lost access');
    const shown = visibleText(replies);
    expect(shown).toMatch(/When a site owner removes your permission/);
    expect(shown).toContain('The person who invited you, or an owner of the team or site you were using.');
    expect(shown).not.toMatch(/Project Falcon|Megan Bowen|Something went wrong/);
    // Synced copies are mentioned only when the account could not be read (it may be a work account).
    if (method === 'getUser') expect(shown).toMatch(/stay on your device/);
    else expect(shown).not.toMatch(/stay on your device/);
    expect(logged).toHaveLength(1);
    const line = JSON.stringify(logged);
    expect(line).toMatch(/lost-access answer/);
    for (const personal of [JORDAN.id, 'Jordan', 'tailspintoys', DEMO.groups.projectFalcon.id]) expect(line).not.toContain(personal);
  });

  it('when the invitation records cannot be read, Jordan still gets his groups, without who invited him', async () => {
    const { say, store, logged } = setup();
    store.db.exec('DROP TABLE invitations');
    const shown = visibleText(await say(JORDAN, 'I lost access'));
    expect(shown).toContain('"text":"• Project Falcon"');
    expect(shown).toContain('The person who invited you.');
    expect(shown).not.toContain('Who invited you');
    expect(JSON.stringify(logged)).toMatch(/"step":"invitations"/);
  });

  it('a member saying "I lost access" is pointed to the help desk, without a directory search', async () => {
    const { say, directory } = setup();
    const shown = visibleText(await say(MEGAN, 'I lost access to the site'));
    expect(shown).toContain('Your IT help desk, or an owner of the site.');
    expect(directory.callCount('listMemberGroups')).toBe(0);
  });

  it.each([
    ['someone@gmail.com', /Google account/],
    ['someone@fabrikam.com', /Work or school account/],
    ['someone@wingtiptoys.com', /SAML\/WS-Fed federation/],
  ])('Megan asks what sign-in %s will get', async (address, expected) => {
    const { say } = setup();
    const replies = await say(MEGAN, `what sign-in will ${address} get?`);
    const card = cardOf(replies);
    expect(JSON.stringify(card.body)).toMatch(expected);
    expect(JSON.stringify(card.body)).toContain(address);
  });

  it('Megan asks about litware.com and is told the B2B block list refuses it, and who can change that', async () => {
    const { say } = setup();
    const shown = visibleText(await say(MEGAN, 'what sign-in will chris@litware.com get?'));
    expect(shown).toMatch(/An invitation would be refused/);
    expect(shown).toMatch(/litware\.com is on the tenant's B2B block list/);
    expect(shown).toMatch(/Global Administrator/);
    expect(shown).toMatch(/Deny invitations to the specified domains.*b2bManagementPolicy\.blockList/);
  });

  it('the litware.com card gives the block-list reason once, not again under "Why" and "Good to know"', async () => {
    const { say } = setup();
    const shown = visibleText(await say(MEGAN, 'what sign-in will chris@litware.com get?'));
    expect(shown.match(/on the tenant's B2B block list/g)).toHaveLength(1);
    expect(shown.match(/Global Administrator/g)).toHaveLength(1);
    expect(shown).not.toMatch(/Good to know|would be refused\. To change this/);
    expect(shown).not.toMatch(/\nWhy\n/);
  });

  it('asking without an address makes the bot ask for one, and a bad one is explained', async () => {
    const { say } = setup();
    expect(visibleText(await say(MEGAN, 'what sign-in will they get?'))).toMatch(/Which email address should I check/);
    expect(visibleText(await say(MEGAN, 'jane doe@fabrikam.com'))).toMatch(/that address has a space in it/);
    expect(visibleText(await say(MEGAN, 'jane@fabrikam.com'))).toMatch(/Work or school account/);
  });

  it("an owner's advice card gives the sign-in link to pass on, without the guest-only heading or button", async () => {
    const { say } = setup();
    const owner = cardOf(await say(MEGAN, 'what sign-in will kim@example.org get?'));
    const text = JSON.stringify(owner);
    expect(text).not.toContain('Your sign-in link');
    expect(text).not.toContain('Sign in to Contoso');
    expect(text).toContain('The Contoso (demo) sign-in link, to give them');
    expect(text.split(LINK)).toHaveLength(3); // the text and its own click target, no button
    const guest = cardOf(await say(JORDAN, 'what sign-in will jordan.lee@tailspintoys.com get?'));
    expect(JSON.stringify(guest)).toContain('Your sign-in link');
    expect(JSON.stringify(guest.actions)).toContain('Sign in to Contoso (demo)');
  });

  it('a guest asking about someone else does not learn who is in the directory', async () => {
    const { say } = setup();
    const shown = visibleText(await say(JORDAN, 'what sign-in will lee.gu@fabrikam.com get?'));
    expect(shown).not.toContain('Lee Gu');
    expect(shown).toMatch(/already has a guest account here/);
  });

  it('the reset button records one request, audits it and acknowledges honestly; a second click finds the first', async () => {
    const { bot, store } = setup();
    const response = await bot.execute(JORDAN, 'guestHelp.requestReset', { userId: MEGAN.id }, DEMO.tenantId);
    expect(response?.status).toBe(200);
    const body = response?.body as { type: string; value: unknown };
    expect(body.type).toBe('application/vnd.microsoft.card.adaptive');
    expect(JSON.stringify(body.value)).toMatch(/Recorded: an admin will review your request/);
    expect(JSON.stringify(body.value)).not.toContain('"verb":"guestHelp.requestReset"');

    const rows = store.db.prepare('SELECT user_id, email, status, redeemed_with FROM reset_requests').all();
    // The card's data named Megan; the request is Jordan's, because the actor comes from the activity.
    expect(rows).toEqual([
      { user_id: JORDAN.id, email: 'jordan.lee@tailspintoys.com', status: 'open', redeemed_with: 'emailOneTimePasscode' },
    ]);
    expect(await store.audit.list({ action: 'redemptionReset.requested' })).toHaveLength(1);

    const again = await bot.execute(JORDAN, 'guestHelp.requestReset', {}, DEMO.tenantId);
    expect(JSON.stringify((again?.body as { value: unknown }).value)).toMatch(/You already asked on 2025-01-15/);
    expect(store.db.prepare('SELECT count(*) AS n FROM reset_requests').get()).toEqual({ n: 1 });
  });

  it('a member pressing the reset button records nothing', async () => {
    const { bot, store } = setup();
    const response = await bot.execute(MEGAN, 'guestHelp.requestReset', {}, DEMO.tenantId);
    expect(JSON.stringify((response?.body as { value: unknown }).value)).toMatch(/nothing was recorded/);
    expect(store.db.prepare('SELECT count(*) AS n FROM reset_requests').get()).toEqual({ n: 0 });
  });

  it('a pending guest asking about codes is told the invitation is not accepted yet', async () => {
    const { say } = setup();
    expect(visibleText(await say(LEE_GU, 'why did I get a code?'))).toMatch(/not accepted your invitation|haven't accepted/);
  });

  it('an unknown question from a guest gets the menu, not a guess', async () => {
    const { say } = setup();
    const replies = await say(JORDAN, "what's the wifi password?");
    const card = cardOf(replies);
    expect(JSON.stringify(card)).toMatch(/Here is what I can answer/);
    expect(JSON.stringify(card.actions)).toContain('why did I get a code?');
  });

  it('a value such as ${secret} in an address renders literally', async () => {
    const { say } = setup();
    const shown = visibleText(await say(MEGAN, 'what sign-in will x@${secret}.com get?'));
    expect(shown).toMatch(/not allowed/);
    expect(shown).toContain('${secret}');
  });
});

describe('questions in the middle of an invitation', () => {
  it('"why did I get a code?" and "what sign-in will X get?" are answered and the flow carries on', async () => {
    const { say } = setup();
    expect(visibleText(await say(MEGAN, 'invite'))).toMatch(/guest's name/);
    const code = visibleText(await say(MEGAN, 'why did I get a code?'));
    expect(code).toMatch(/You are a member of Contoso \(demo\)/);
    expect(code).toMatch(/guest's name/); // re-prompted
    expect(visibleText(await say(MEGAN, 'Jane Doe'))).toMatch(/email address/);
    const advice = visibleText(await say(MEGAN, 'what sign-in will jane@gmail.com get?'));
    expect(advice).toMatch(/Google account/);
    expect(advice).toMatch(/email address\?/); // re-prompted, not consumed
    // A bare address is the flow's answer, not a question for guest help.
    expect(visibleText(await say(MEGAN, 'jane@gmail.com'))).toBe('Inviting Jane Doe <jane@gmail.com>');
  });

  it('"what will they get?" mid-flow asks for the address without stealing the next message', async () => {
    const { say } = setup();
    await say(MEGAN, 'invite');
    expect(visibleText(await say(MEGAN, 'what will they get?'))).toMatch(/Ask me with the address/);
    expect(visibleText(await say(MEGAN, 'Jane Doe'))).toMatch(/email address/);
  });
});

describe('guest help cards', () => {
  it('every card guest help sends is a valid Adaptive Card 1.5 with fallbackText', async () => {
    const schema = JSON.parse(
      fs.readFileSync(path.join(__dirname, '../fixtures/corpora/adaptive-cards/adaptive-card-1.5.schema.json'), 'utf8'),
    ) as Record<string, unknown>;
    delete schema.id; // draft-06 "id" clashes with Ajv's own registry; the schema content is unchanged.
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addMetaSchema(draft06);
    const validate = ajv.compile(schema);

    const { say, bot } = setup();
    const cards: unknown[] = [];
    for (const [person, text] of [
      [JORDAN, 'why did I get a code?'],
      [JORDAN, 'how do I sync?'],
      [JORDAN, 'I lost access'],
      [JORDAN, 'what is this?'],
      [MEGAN, 'what sign-in will chris@litware.com get?'],
      [MEGAN, 'what sign-in will kim@outlook.com get?'],
      [MEGAN, 'how do I sync?'],
      [LEE_GU, 'why did I get a code?'],
    ] as const) {
      cards.push(...(await say(person, text)).flatMap((r) => (r.attachments ?? []).map((a) => a.content as unknown)));
    }
    cards.push((await bot.execute(JORDAN, 'guestHelp.requestReset', {}, DEMO.tenantId))?.body?.value);
    expect(cards).toHaveLength(9);
    for (const card of cards) {
      expect({ card, valid: validate(card), errors: validate.errors ?? null }).toMatchObject({ valid: true });
      expect((card as { fallbackText?: string }).fallbackText).toBeTruthy();
    }
  });
});

describe('classifyGuestQuestion', () => {
  it.each([
    ['why did I get a code?', 'otp'],
    ['Why do I keep getting passcodes', 'otp'],
    ['how do I sync?', 'sync'],
    ['can I use OneDrive for this', 'sync'],
    ['I lost access', 'lostAccess'],
    ["I can't access the site anymore", 'lostAccess'],
    ['what sign-in will jane@x.com get?', 'advice'],
    ['how will jane@fabrikam.com sign in', 'advice'],
    ['what will they get?', 'advice'],
    ['invite jane@fabrikam.com', null],
    ['jane@fabrikam.com', null],
    ['approve the request for jane@fabrikam.com', null],
    ['hello there', null],
  ])('%j → %s', (text, topic) => {
    expect(classifyGuestQuestion(text)).toBe(topic);
  });
});
