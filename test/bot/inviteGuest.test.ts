import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import draft06 from 'ajv/dist/refs/json-schema-draft-06.json';
import { DirectoryError } from '../../src/usecases/ports/Directory';
import { CANCELLED_MESSAGE } from '../../src/teams/bot/RootDialog';
import { recogniseInviteIntent } from '../../src/teams/invite/inviteFeature';
import { DEMO } from '../support/directory';
import { cardsIn, inviteBot, visibleText, type BotHarness } from '../support/dialogHarness';

const FALCON = DEMO.groups.projectFalcon;

/** Adaptive Cards 1.5 schema check for cards built in code (cards/ templates have their own test). */
function isValidCard(card: unknown): boolean {
  const schema = JSON.parse(
    fs.readFileSync(path.join(__dirname, '../fixtures/corpora/adaptive-cards/adaptive-card-1.5.schema.json'), 'utf8'),
  ) as Record<string, unknown>;
  delete schema.id; // draft-06 "id" clashes with Ajv's own registry.
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addMetaSchema(draft06);
  return ajv.compile(schema)(card);
}

/** Nothing was sent and nobody was added. */
function expectDirectoryUnchanged(bot: BotHarness): void {
  const snap = bot.directory.snapshot();
  expect(snap.invitations).toHaveLength(0);
  expect(bot.directory.callCount('addMembers')).toBe(0);
  expect(snap.groups.find((g) => g.id === FALCON.id)?.members).toEqual([DEMO.users.megan.id, DEMO.users.adele.id, DEMO.users.jordan.id]);
}

async function toConfirmCard(bot: BotHarness): Promise<string> {
  await bot.say('invite a guest');
  await bot.say('jane@fabrikam.com');
  await bot.say('Jane Doe');
  return visibleText(await bot.say('Project Falcon'));
}

describe('inviting a guest from chat', () => {
  it('guided: asks for the address, the name and the site, confirms with the predicted sign-in, then invites', async () => {
    const bot = inviteBot();
    expect(visibleText(await bot.say('invite a guest'))).toContain("guest's email address");
    expect(visibleText(await bot.say('jane@fabrikam.com'))).toContain('What name');
    const siteQuestion = visibleText(await bot.say('Jane Doe'));
    expect(siteQuestion).toContain('Which site');
    expect(siteQuestion).toContain('Marketing');
    expect(siteQuestion).toContain('Project Falcon');

    const confirm = await bot.say('Project Falcon');
    const confirmText = visibleText(confirm);
    expect(cardsIn(confirm)).toHaveLength(1);
    expect(confirmText).toContain('Jane Doe');
    expect(confirmText).toContain('jane@fabrikam.com');
    expect(confirmText).toContain('Project Falcon');
    // Capitalised like the advice card's "Sign-in: Work or school account …".
    expect(confirmText).toContain('Work or school account (Microsoft Entra ID)');
    expect(confirmText).not.toContain('work or school account (Microsoft Entra ID)');
    expect(bot.directory.snapshot().invitations).toHaveLength(0);

    const result = await bot.submit({ inviteAction: 'confirm' });
    const cards = cardsIn(result);
    expect(cards).toHaveLength(2);
    const text = visibleText(result);
    expect(text).toContain('Jane Doe is invited to Project Falcon');
    expect(text).toContain('Work or school account (Microsoft Entra ID)');
    expect(text).not.toContain('work or school account (Microsoft Entra ID)');
    const invitation = bot.directory.snapshot().invitations[0];
    expect(invitation?.redirectUrl).toBe(FALCON.siteUrl);
    expect(text).toContain(invitation?.redeemUrl);
    const actions = (cards[0]?.actions ?? []) as Array<{ type: string; url?: string; title: string; verb?: string }>;
    // The owner is not invited to open the guest's link: it is in a field to copy, with a warning, and Microsoft can email it.
    expect(actions.some((a) => a.type === 'Action.OpenUrl' && a.url === invitation?.redeemUrl)).toBe(false);
    expect(JSON.stringify(cards[0])).toContain(`"type":"Input.Text","id":"invitationLink","label":"Select the link, then copy it","value":${JSON.stringify(invitation?.redeemUrl)}`);
    expect(text).toContain('Invitation link for Jane Doe');
    expect(text).toContain("Don't open this link yourself: it is for Jane Doe");
    expect(text).toContain('Microsoft has not emailed Jane Doe');
    expect(actions.find((a) => a.title === 'Send the invitation email')?.verb).toBe('invite.sendEmail');
    expect(text).not.toMatch(/redeem link/i);
    expect(text).toMatch(/Sync/);
    expect(text).toContain('Contoso (demo)');
    expect(bot.directory.snapshot().groups.find((g) => g.id === FALCON.id)?.members).toContain(invitation?.userId);
  });

  it.each([
    ['invite Jane Doe <jane@fabrikam.com> to Project Falcon', 'personal'],
    ['invite jane@fabrikam.com as Jane Doe to Project Falcon', 'personal'],
    ['invite Jane Doe jane@fabrikam.com to project falcon', 'groupChat'],
    ['invite Jane Doe <jane@fabrikam.com>', 'channel'],
  ] as const)('one message: "%s" (%s) goes straight to the confirmation card', async (message, conversation) => {
    const bot = inviteBot({ conversation });
    const reply = await bot.say(message);
    const text = visibleText(reply);
    expect(cardsIn(reply)).toHaveLength(1);
    expect(text).toContain('Jane Doe');
    expect(text).toContain('jane@fabrikam.com');
    expect(text).toContain('Project Falcon');
    expect(text).toContain('Confirm');
  });

  it('a one-message request with a bad address asks again with the reason', async () => {
    const bot = inviteBot();
    const text = visibleText(await bot.say('invite Jane Doe <jane,doe@fabrikam.com>'));
    expect(text).toMatch(/','/);
    expect(text).toContain("guest's email address");
    // Then asks for the site (the name came with the message), not for confirmation yet.
    const next = await bot.say('jane@fabrikam.com');
    expect(visibleText(next)).toContain('Which site');
    expect(cardsIn(next).some((c) => JSON.stringify(c).includes('Invite this guest?'))).toBe(false);
  });

  it('the site question lists each site on its own row, with a button each, and a button picks the site', async () => {
    const bot = inviteBot();
    await bot.say('invite a guest');
    await bot.say('jane@fabrikam.com');
    const question = cardsIn(await bot.say('Jane Doe'));
    expect(question).toHaveLength(1);
    expect(isValidCard(question[0])).toBe(true);
    const rows = (question[0]?.body as Array<{ type: string; inlines?: Array<{ text: string }> }>)
      .filter((b) => b.type === 'RichTextBlock')
      .map((b) => b.inlines?.map((i) => i.text).join(''));
    expect(rows).toEqual(['1. Marketing', '2. Project Falcon']);
    const buttons = question[0]?.actions as Array<{ title: string; data: { inviteSite: string } }>;
    expect(buttons.map((b) => b.title)).toEqual(['Marketing', 'Project Falcon']);

    const picked = buttons.find((b) => b.title === 'Project Falcon');
    const confirm = await bot.submit({ ...picked?.data });
    expect(cardsIn(confirm)).toHaveLength(1);
    expect(visibleText(confirm)).toContain('Invite this guest?');
    expect(visibleText(confirm)).toContain('Project Falcon');
    expectDirectoryUnchanged(bot);
  });

  it('with many sites the question offers a drop-down instead of a row of buttons, and it picks the site', async () => {
    const bot = inviteBot();
    const extra = ['Alpha', 'Beta', 'Gamma', 'Delta'].map((name, i) => ({
      id: `7a2e9d41-0099-4b6c-9d8e-1f2a3b4c5d9${i}`,
      displayName: name,
      mail: null,
      siteUrl: `https://contoso.sharepoint.com/sites/${name}`,
      owners: [DEMO.users.megan.id],
      members: [DEMO.users.megan.id],
    }));
    for (const group of extra) bot.directory.addGroup(group);
    await bot.say('invite a guest');
    await bot.say('jane@fabrikam.com');
    const question = cardsIn(await bot.say('Jane Doe'))[0];
    expect(isValidCard(question)).toBe(true);
    const body = question?.body as Array<{ type: string; id?: string; choices?: Array<{ title: string; value: string }> }>;
    const choices = body.find((b) => b.type === 'Input.ChoiceSet');
    expect(choices?.choices?.map((c) => c.title)).toEqual(['Alpha', 'Beta', 'Delta', 'Gamma', 'Marketing', 'Project Falcon']);
    expect((question?.actions as Array<{ title: string }>).map((a) => a.title)).toEqual(['Choose']);

    const confirm = await bot.submit({ [choices?.id ?? '']: extra[1]?.id });
    expect(visibleText(confirm)).toContain('Invite this guest?');
    expect(visibleText(confirm)).toContain('Beta');
  });

  it('a site id the person cannot pick (a forged card value) is refused and asked again', async () => {
    const bot = inviteBot();
    await bot.say('invite a guest');
    await bot.say('jane@fabrikam.com');
    await bot.say('Jane Doe');
    const reply = await bot.submit({ inviteSite: DEMO.groups.research.id });
    expect(visibleText(reply)).toContain('Which site');
    expect(visibleText(reply)).not.toContain('Invite this guest?');
    expectDirectoryUnchanged(bot);
  });

  it.each([
    ['an address with a space', 'jane doe@fabrikam.com', /space/i],
    ['two addresses', 'jane@fabrikam.com, bob@fabrikam.com', /more than one address/i],
    ['no address at all', 'jane at fabrikam', /no @/],
    ['an unknown address in the tenant’s own domain', 'nobody@contoso.com', /own organisation/],
    ['a blocked domain', 'sam@litware.com', /block list/i],
  ])('re-prompts for %s with the reason, and changes nothing', async (_label, answer, reason) => {
    const bot = inviteBot();
    await bot.say('invite a guest');
    const text = visibleText(await bot.say(answer));
    expect(text).toMatch(reason);
    expect(text).toContain("guest's email address");
    // Still waiting for the address: a good one moves on.
    expect(visibleText(await bot.say('jane@fabrikam.com'))).toContain('What name');
    expectDirectoryUnchanged(bot);
  });

  it.each([
    ['an empty name', '   ', /can't be empty/],
    ['a 300-character name', 'J'.repeat(300), /300 characters long; the most is 256/],
    ['control characters', 'Jane\u0007 Doe', /control character \(U\+0007\)/],
  ])('re-prompts for %s with the reason', async (_label, answer, reason) => {
    const bot = inviteBot();
    await bot.say('invite a guest');
    await bot.say('jane@fabrikam.com');
    const text = visibleText(await bot.say(answer));
    expect(text).toMatch(reason);
    expect(text).toContain('What name');
    expect(visibleText(await bot.say('Jane Doe'))).toContain('Which site');
    expectDirectoryUnchanged(bot);
  });

  it('re-prompts for a site the owner does not own', async () => {
    const bot = inviteBot();
    await bot.say('invite a guest');
    await bot.say('jane@fabrikam.com');
    await bot.say('Jane Doe');
    const text = visibleText(await bot.say('Research'));
    expect(text).toContain(`I can't find a site called "Research"`);
    expect(text).toContain('Which site');
    expect(cardsIn(await bot.say('2'))).toHaveLength(1); // "2" = Project Falcon in the numbered list
    expectDirectoryUnchanged(bot);
  });

  it('"help" mid-flow explains the step and keeps the flow; "cancel" stops it', async () => {
    const bot = inviteBot();
    await bot.say('invite a guest');
    await bot.say('jane@fabrikam.com');
    const help = visibleText(await bot.say('help'));
    expect(help).toContain('Type the name the guest should have');
    expect(visibleText(await bot.say('Jane Doe'))).toContain('Which site');
    expect(visibleText(await bot.say('cancel'))).toContain(CANCELLED_MESSAGE);
    const after = await bot.say('Project Falcon');
    expect(cardsIn(after).some((c) => JSON.stringify(c).includes('Invite this guest?'))).toBe(false);
    expectDirectoryUnchanged(bot);
  });

  it('Cancel on the confirmation card sends nothing', async () => {
    const bot = inviteBot();
    await toConfirmCard(bot);
    expect(visibleText(await bot.submit({ inviteAction: 'cancel' }))).toContain("haven't invited anyone");
    expectDirectoryUnchanged(bot);
  });

  it('Edit on the confirmation card starts the details again', async () => {
    const bot = inviteBot();
    await toConfirmCard(bot);
    expect(visibleText(await bot.submit({ inviteAction: 'edit' }))).toContain("guest's email address");
    expectDirectoryUnchanged(bot);
  });

  it('asking again for a guest removed from the site since puts them back, without a second invitation', async () => {
    const bot = inviteBot();
    await toConfirmCard(bot);
    await bot.submit({ inviteAction: 'confirm' });
    const userId = bot.directory.snapshot().invitations[0]?.userId ?? '';
    const falcon = bot.directory.state.group(FALCON.id);
    if (falcon) falcon.members = falcon.members.filter((m) => m !== userId);

    await toConfirmCard(bot);
    const text = visibleText(await bot.submit({ inviteAction: 'confirm' }));
    expect(text).toContain('had been removed from Project Falcon since an earlier invitation');
    expect(text).not.toContain('already done by an earlier request');
    expect(bot.directory.snapshot().groups.find((g) => g.id === FALCON.id)?.members).toContain(userId);
    expect(bot.directory.callCount('invite')).toBe(1);
  });

  it('a double click on Confirm makes one invitation', async () => {
    const bot = inviteBot();
    await toConfirmCard(bot);
    await bot.submit({ inviteAction: 'confirm' });
    await bot.submit({ inviteAction: 'confirm' });
    expect(bot.directory.callCount('invite')).toBe(1);
  });

  describe('refusals (nothing changes)', () => {
    it('a member who owns nothing (Adele) is told only owners can invite', async () => {
      const bot = inviteBot();
      const text = visibleText(await bot.say('invite jane@fabrikam.com as Jane Doe', { as: 'adele' }));
      expect(text).toMatch(/don't own any team or SharePoint site/);
      expectDirectoryUnchanged(bot);
    });

    it("in a team channel, a non-owner is refused with the site's name", async () => {
      const bot = inviteBot({ conversation: 'channel' });
      const text = visibleText(await bot.say('invite Jane Doe <jane@fabrikam.com>', { as: 'adele' }));
      expect(text).toContain("Only the site's owners can invite guests to Project Falcon");
      expectDirectoryUnchanged(bot);
    });

    it('allowInvitesFrom none: names the setting and who can change it', async () => {
      const bot = inviteBot({ tweak: (t) => void (t.policies.allowInvitesFrom = 'none') });
      const text = await toConfirmCard(bot);
      expect(text).toContain('authorizationPolicy.allowInvitesFrom');
      expect(text).toContain('Global Administrator');
      expectDirectoryUnchanged(bot);
    });

    it('SharePoint sharing disabled: names the setting and who can change it', async () => {
      const bot = inviteBot({ tweak: (t) => void (t.policies.sharePoint.sharingCapability = 'disabled') });
      const text = await toConfirmCard(bot);
      expect(text).toContain('sharePoint.sharingCapability');
      expect(text).toContain('SharePoint Administrator');
      expectDirectoryUnchanged(bot);
    });

    it('Graph refuses for a missing permission: the permission is named', async () => {
      const bot = inviteBot();
      await toConfirmCard(bot);
      bot.directory.failNext(
        'invite',
        new DirectoryError('permissionMissing', 'The bot is missing the Microsoft Graph permission User.Invite.All. An administrator must grant it.', {
          permission: 'User.Invite.All',
        }),
      );
      const text = visibleText(await bot.submit({ inviteAction: 'confirm' }));
      expect(text).toContain('User.Invite.All');
      expect(text).toContain('was not invited');
      expectDirectoryUnchanged(bot);
    });

    it('Graph throttling past the retry bound: told honestly, nothing sent', async () => {
      const bot = inviteBot();
      await toConfirmCard(bot);
      bot.directory.throttle({ retryAfterMs: 2000, times: 100, methods: ['invite'] });
      const text = visibleText(await bot.submit({ inviteAction: 'confirm' }));
      expect(text).toMatch(/throttling/);
      expect(text).toContain('was not invited');
      expectDirectoryUnchanged(bot);
    });
  });

  it('a partial success is shown as such with Retry (Action.Execute invite.retry), and Retry re-checks rights', async () => {
    const bot = inviteBot();
    await toConfirmCard(bot);
    bot.directory.failNext('addMembers', new DirectoryError('transient', 'Microsoft Graph had a temporary problem.'), 4);
    const result = await bot.submit({ inviteAction: 'confirm' });
    const text = visibleText(result);
    expect(text).toContain('was invited, but adding them to Project Falcon failed');
    expect(text).not.toContain('Jane Doe is invited to Project Falcon');
    const retry = ((cardsIn(result)[0]?.actions ?? []) as Array<{ type: string; verb?: string; data?: { recordId: string } }>).find(
      (a) => a.verb === 'invite.retry',
    );
    expect(retry?.type).toBe('Action.Execute');
    const recordId = retry?.data?.recordId ?? '';

    // Someone else's card: nothing of the invitation comes back, only who may act.
    for (const who of ['adele', 'jordan'] as const) {
      const refused = JSON.stringify(await bot.execute('invite.retry', { recordId }, { as: who }));
      expect(refused).toContain('Only the person who asked for this invitation or an owner of its site can retry it');
      expect(refused).toContain('Nothing was changed');
      for (const secret of ['Jane Doe', 'jane', 'Project Falcon', 'was not invited', 'was invited']) expect(refused).not.toContain(secret);
    }
    expect((await bot.invitations.get(recordId))?.state).toBe('partial');

    const done = (await bot.execute('invite.retry', { recordId })) as { statusCode: number; type: string; value: unknown };
    expect(done.statusCode).toBe(200);
    expect(done.type).toBe('application/vnd.microsoft.card.adaptive');
    expect(JSON.stringify(done.value)).toContain('Jane Doe is invited to Project Falcon');
    expect((await bot.invitations.get(recordId))?.state).toBe('completed');
    expect(bot.directory.callCount('invite')).toBe(1);
  });

  it('"Send the invitation email" has Microsoft email the guest (sendInvitationMessage), keeps one guest, and re-checks rights', async () => {
    const bot = inviteBot();
    await toConfirmCard(bot);
    const result = await bot.submit({ inviteAction: 'confirm' });
    const send = ((cardsIn(result)[0]?.actions ?? []) as Array<{ verb?: string; data?: { recordId: string } }>).find((a) => a.verb === 'invite.sendEmail');
    const recordId = send?.data?.recordId ?? '';
    expect(recordId).not.toBe('');
    expect(bot.directory.snapshot().invitations.map((i) => i.sendInvitationMessage)).toEqual([false]);

    const refused = JSON.stringify(await bot.execute('invite.sendEmail', { recordId }, { as: 'adele' }));
    expect(refused).toContain("Only the site's owners");
    expect(refused).not.toContain('login.microsoftonline.com/redeem');
    expect(bot.directory.callCount('invite')).toBe(1);

    const done = (await bot.execute('invite.sendEmail', { recordId })) as { statusCode: number; value: unknown };
    expect(done.statusCode).toBe(200);
    const card = JSON.stringify(done.value);
    expect(card).toContain('Microsoft emailed the invitation to jane@fabrikam.com.');
    expect(card).toContain('Microsoft has just emailed the invitation to jane@fabrikam.com');
    expect(card).not.toContain('invite.sendEmail');
    const invitations = bot.directory.snapshot().invitations;
    expect(invitations.map((i) => i.sendInvitationMessage)).toEqual([false, true]);
    expect(new Set(invitations.map((i) => i.userId)).size).toBe(1);
    // The record and the card carry the link of the email just sent.
    expect((await bot.invitations.get(recordId))?.redeemUrl).toBe(invitations[1]?.redeemUrl);
    expect(card).toContain(JSON.stringify(invitations[1]?.redeemUrl).slice(1, -1));
  });

  it('"status of" and "my invitations" show what the directory says', async () => {
    const bot = inviteBot();
    await toConfirmCard(bot);
    await bot.submit({ inviteAction: 'confirm' });
    expect(visibleText(await bot.say('status of jane@fabrikam.com'))).toContain('Waiting for the guest to accept');
    const userId = bot.directory.snapshot().invitations[0]?.userId ?? '';
    bot.directory.redeem(userId, 'workOrSchoolAccount');
    const status = visibleText(await bot.say('status of Jane@Fabrikam.com'));
    expect(status).toContain('Accepted');
    expect(status).toContain('work or school account');
    const mine = visibleText(await bot.say('my invitations'));
    expect(mine).toContain('Jane Doe');
    expect(mine).toContain('1 invitation,');
    expect(visibleText(await bot.say('my invitations', { as: 'alex' }))).toContain('have not invited anyone');
  });

  it('a display name with template syntax and markdown is shown literally', async () => {
    const bot = inviteBot();
    const reply = await bot.say('invite jane@fabrikam.com as ${secret} **Jane** to Project Falcon');
    expect(JSON.stringify(cardsIn(reply))).toContain('${secret} **Jane**');
  });
});

describe('recogniseInviteIntent', () => {
  it.each([
    ['invite a guest', { kind: 'invite', options: {} }],
    ['Invite guest', { kind: 'invite', options: {} }],
    ['invite Jane Doe <jane@x.com>', { kind: 'invite', options: { displayName: 'Jane Doe', email: 'Jane Doe <jane@x.com>' } }],
    ['invite jane@x.com as Jane Doe to Project X', { kind: 'invite', options: { displayName: 'Jane Doe', email: 'jane@x.com', siteName: 'Project X' } }],
    ['status of jane@x.com', { kind: 'status', email: 'jane@x.com' }],
    ['my invitations', { kind: 'mine' }],
    ['bulk invite', null],
    ['invite many from a CSV', null],
    ['why did I get a code?', null],
  ])('%s', (text, expected) => {
    expect(recogniseInviteIntent(text)).toEqual(expected);
  });
});

describe('look-alike addresses on the confirmation card', () => {
  function toggleIn(card: Record<string, unknown> | undefined): unknown {
    let found: unknown = null;
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        const record = node as Record<string, unknown>;
        if (record.type === 'Input.Toggle' && record.id === 'lookAlikeConfirmed') found = record;
        Object.values(record).forEach(walk);
      }
    };
    walk(card);
    return found;
  }

  it.each([
    ['jane@gmаil.com', 'This address may imitate another one', 'jane@xn--gmil-63d.com', /mixes Latin and Cyrillic letters/],
    ['jane@xn--gmil-63d.com', 'This address may imitate another one', 'jane@xn--gmil-63d.com', /mixes Latin and Cyrillic letters/],
    ['anna@münchen.de', 'its domain is internationalised', 'anna@xn--mnchen-3ya.de', /letters of other scripts can look like Latin ones/],
  ])('%s: flagged with its ASCII form; sent only once the owner ticks that they checked it', async (address, heading, ascii, why) => {
    const bot = inviteBot();
    const confirm = await bot.say(`invite Jane Doe <${address}> to Project Falcon`);
    const text = visibleText(confirm);
    expect(text).toContain(heading);
    expect(text).toMatch(why);
    expect(text).toContain('ASCII form (what Entra uses)');
    expect(text).toContain(ascii);
    expect(text).toContain('Shown as:');
    expect(toggleIn(cardsIn(confirm)[0])).toMatchObject({ type: 'Input.Toggle', valueOn: 'true', value: 'false' });

    for (const value of [{ inviteAction: 'confirm' }, { inviteAction: 'confirm', lookAlikeConfirmed: 'false' }]) {
      const refused = visibleText(await bot.submit(value));
      expect(refused).toContain(`Entra will invite ${ascii}`);
      expect(refused).toContain('tick "I checked the address"');
    }
    expect(visibleText(await bot.say('yes'))).toContain('tick "I checked the address"');
    expect(bot.directory.snapshot().invitations).toHaveLength(0);

    const result = visibleText(await bot.submit({ inviteAction: 'confirm', lookAlikeConfirmed: 'true' }));
    expect(result).toContain('Jane Doe is invited to Project Falcon');
    expect(bot.directory.snapshot().invitations.map((i) => i.email.toLowerCase())).toEqual([ascii]);
  });

  it('a plain ASCII address has no look-alike box and confirms as before', async () => {
    const bot = inviteBot();
    const confirm = await bot.say('invite Jane Doe <jane@gmail.com> to Project Falcon');
    expect(visibleText(confirm)).not.toMatch(/ASCII form|imitate|internationalised/);
    expect(toggleIn(cardsIn(confirm)[0])).toBeNull();
    expect(visibleText(await bot.submit({ inviteAction: 'confirm' }))).toContain('Jane Doe is invited to Project Falcon');
  });
});
