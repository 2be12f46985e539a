/**
 * Inviting guests from a real client: in the Agents Playground, the site owner Megan Bowen invites
 * a gmail.com partner in one message and a fabrikam.com partner through the guided questions,
 * confirms on the card, gets the redeem link and the sync instructions, then checks, as she can,
 * that the guests are in the directory and in Project Falcon.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expectRenderedCleanly } from '../support/e2e/chat';
import { startE2eSession, type E2eSession } from '../support/e2e/session';
import { PROJECT_ROOT } from '../support/e2e/processes';

jest.setTimeout(120_000);

// The documentation image is refreshed only when asked (UPDATE_DOC_IMAGES=1), so a test run leaves the tree clean.
const INVITE_RESULT_IMAGE = path.join(process.env.UPDATE_DOC_IMAGES === '1' ? path.join(PROJECT_ROOT, 'docs', 'images') : os.tmpdir(), 'invite-result.png');
const REDEEM_URL = /https:\/\/login\.microsoftonline\.com\/redeem\?\S+/;

/** The invitation links shown in copyable fields, newest card last. */
async function linkFieldValues(session: E2eSession): Promise<string[]> {
  const values = await session.page.locator('input').evaluateAll((inputs) => inputs.map((i) => (i as unknown as { value: string }).value));
  return values.filter((v) => REDEEM_URL.test(v));
}

describe('inviting a guest from chat in the Microsoft 365 Agents Playground, as the site owner Megan Bowen', () => {
  let session: E2eSession;

  beforeAll(async () => {
    session = await startE2eSession();
    await session.waitForText('Here is what you can say', { timeoutMs: 30_000 });
  });
  afterAll(async () => {
    await session?.close();
  });

  it('invites Jane Doe (gmail.com) in one message: the card explains Google sign-in, Confirm gives her redeem link', async () => {
    await session.sendMessage('invite Jane Doe <jane.doe@gmail.com> to Project Falcon');
    const confirm = await session.cardText('Invite this guest?');
    expectRenderedCleanly(confirm);
    expect(confirm).toContain('Name: Jane Doe');
    expect(confirm).toContain('Email: jane.doe@gmail.com');
    expect(confirm).toContain('Site: Project Falcon');
    expect(confirm).toContain('How they will sign in: Google account');
    expect(confirm).toContain('Contoso (demo) has Google federation set up');
    expect((await session.cardActions('Invite this guest?')).map((a) => a.title)).toEqual(['Confirm', 'Edit', 'Cancel']);

    await session.clickButton('Confirm');
    const result = await session.cardText('Jane Doe is invited to Project Falcon', { timeoutMs: 20_000 });
    expectRenderedCleanly(result);
    expect(result).toContain('Guest: Jane Doe (jane.doe@gmail.com)');
    expect(result).toContain('Sign-in: Google account');
    expect(result).toContain('A "Sign in with Google" page: they use their Google account.');
    // One name for it, who it is for, and whether Microsoft emailed it.
    expect(result).toContain('Invitation link for Jane Doe');
    expect(result).toContain("Don't open this link yourself: it is for Jane Doe (jane.doe@gmail.com)");
    expect(result).toContain('Microsoft has not emailed Jane Doe');
    expect(result).not.toMatch(/redeem link/i);
    // The link sits whole in one field, to select and copy; no button asks Megan to open it.
    const [redeemUrl] = await linkFieldValues(session);
    expect(redeemUrl).toMatch(REDEEM_URL);
    expect((await session.cardActions('Jane Doe is invited to Project Falcon')).map((a) => a.title)).toEqual(['Send the invitation email', 'Open the site']);
    fs.mkdirSync(path.dirname(INVITE_RESULT_IMAGE), { recursive: true });
    await session.screenshotConversation(INVITE_RESULT_IMAGE.replace('invite-result.png', 'invite-link.png'), { fromText: 'Jane Doe is invited to Project Falcon', toText: 'Open the site', width: 1000 });

    // Microsoft emails it on request; the card says so and shows the new link.
    await session.clickButton('Send the invitation email');
    await session.waitForText('Microsoft emailed the invitation to jane.doe@gmail.com.', { timeoutMs: 20_000 });
    await session.waitForText('Microsoft has just emailed the invitation to jane.doe@gmail.com');
  });

  it('follows Jane\'s result with sync instructions saying OneDrive sync is not available with a Google account', async () => {
    // Nothing can be synced with a Google account: no "Syncing … with OneDrive" title, no list of sync limits.
    const sync = await session.cardText('Project Falcon without OneDrive sync');
    expect(sync).not.toContain('What cannot be synced');
    expect(sync).not.toContain('Accept the invitation first');
    expectRenderedCleanly(sync);
    expect(sync).toContain('Jane Doe will sign in with a Google account');
    expect(sync).toContain('syncing will not be available to them');
    expect(sync).toContain('What works instead');
    expect(sync).toContain('Use the Files tab of the team in Microsoft Teams.');

    fs.mkdirSync(path.dirname(INVITE_RESULT_IMAGE), { recursive: true });
    await session.screenshotConversation(INVITE_RESULT_IMAGE, { fromText: 'Jane Doe is invited to Project Falcon', width: 1000 });
    expect(fs.statSync(INVITE_RESULT_IMAGE).size).toBeLessThan(300_000);
  });

  it('invites Sam Taylor (fabrikam.com) by answering the guided questions and picking the site from its buttons', async () => {
    await session.sendMessage('invite a guest');
    await session.waitForText("What is the guest's email address?");
    await session.sendMessage('sam.taylor@fabrikam.com');
    await session.waitForText('What name should they have in your organisation');
    await session.sendMessage('Sam Taylor');
    // Megan owns two sites, so she is asked which one.
    await session.waitForText('Which site should they join?');
    await session.clickButton('Project Falcon');

    const confirm = await session.cardText('Sam Taylor will be added to Project Falcon');
    expectRenderedCleanly(confirm);
    expect(confirm).toContain('Email: sam.taylor@fabrikam.com');
    expect(confirm).toContain('How they will sign in: Work or school account (Microsoft Entra ID)');
    expect(confirm).toContain('fabrikam.com belongs to the Microsoft Entra tenant "Fabrikam"');
    // Work-or-school discovery is per user: "most likely", and why.
    expect(confirm).toContain('(most likely)');
    expect(confirm).toContain('Microsoft checks the person, not only the domain');

    await session.clickButton('Confirm');
    const result = await session.cardText('Sam Taylor is invited to Project Falcon', { timeoutMs: 20_000 });
    expectRenderedCleanly(result);
    expect(result).toContain('Guest: Sam Taylor (sam.taylor@fabrikam.com)');
    expect(result).toContain('Sign-in: Work or school account (Microsoft Entra ID)');
    expect(result).toContain('they sign in with their own work or school account');
    expect(result).toContain('Invitation link for Sam Taylor');
    expect((await linkFieldValues(session)).length).toBeGreaterThanOrEqual(2);
    expect((await session.cardActions('Sam Taylor is invited to Project Falcon'))[0]?.title).toBe('Send the invitation email');

    const sync = await session.cardText('Sam Taylor signs in with a work or school account');
    expectRenderedCleanly(sync);
    expect(sync).toContain('so they can sync Project Falcon with the OneDrive app');
    expect(sync).toContain('Steps for the guest');
    expect(sync).toContain('Go to the library or folder they want and select Sync.');
    expect(sync).toContain('Accept the invitation first: open the invitation link once');
  });

  it('sends nothing more when Confirm is pressed a second time on the same card', async () => {
    await session.clickButton('Confirm');
    await session.waitForText('That card is no longer waiting for an answer, so nothing was changed.');
  });

  it('shows Jane in Project Falcon, waiting to accept, when Megan asks "status of jane.doe@gmail.com"', async () => {
    await session.sendMessage('status of jane.doe@gmail.com');
    const status = await session.cardText('Invitations for jane.doe@gmail.com');
    expectRenderedCleanly(status);
    expect(status).toContain('Project Falcon — Waiting for the guest to accept');
    expect(status).toContain('Jane Doe · sign-in: Google account (expected)');
    expect(status).toContain('Asked by Megan Bowen');
    expect(status).toMatch(REDEEM_URL);
  });

  it('knows Sam as a guest of the tenant now: his sign-in question is answered from his account', async () => {
    await session.sendMessage('what sign-in will sam.taylor@fabrikam.com get?');
    const advice = await session.cardText('How this guest signs in');
    expectRenderedCleanly(advice);
    expect(advice).toContain('sam.taylor@fabrikam.com');
    expect(advice).toContain('Sam Taylor is already a guest of Contoso (demo) but has not accepted the invitation yet');
  });

  it('lists both invitations, once each and newest first, under "my invitations"', async () => {
    await session.sendMessage('my invitations');
    const mine = await session.cardText('Your invitations');
    expectRenderedCleanly(mine);
    expect(mine).toContain('2 invitations, newest first.');
    const sam = mine.indexOf('sam.taylor@fabrikam.com');
    const jane = mine.indexOf('jane.doe@gmail.com');
    expect(sam).toBeGreaterThan(-1);
    expect(jane).toBeGreaterThan(sam);
    expect(mine.split('Waiting for the guest to accept')).toHaveLength(3);
    // For a person to look at: the whole conversation as rendered.
    await session.screenshotConversation(path.join('/tmp', 'invite-guest-conversation.png'), {
      fromText: 'invite Jane Doe <jane.doe@gmail.com> to Project Falcon',
      width: 1000,
    });
  });
});
