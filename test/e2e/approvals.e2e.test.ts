/**
 * Issue "Admins approve pending invitations", in the Agents Playground: Adele Vance (a member of
 * Project Falcon, not an owner) asks for a guest, Alex Wilber (the approver) approves from his
 * own chat, and Adele's chat receives the result proactively.
 *
 * Each person has their own Playground and browser tab, open at the same time against one bot
 * (openClientFor): a Playground shows only its current user's chat and answers 404 for anyone
 * else's, so a proactive message to a person who is not "selected" cannot be shown by it, and
 * selectUser restarts it on a new port, leaving the other person's stored chat unreachable.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../support/e2e/processes';
import { startE2eSession, type E2eSession } from '../support/e2e/session';
import { cardText, openClientFor, screenshotCard, sessionClient, type ChatClient, type SecondClient } from '../support/e2e/flows';

jest.setTimeout(120_000);

const REASON = 'Zoe leads the Falcon design review for Northwind.';

/** Documentation images go to docs/images when UPDATE_DOC_IMAGES=1, else to the temp folder. */
function docImage(name: string): string {
  const dir = process.env.UPDATE_DOC_IMAGES === '1' ? path.join(PROJECT_ROOT, 'docs', 'images') : os.tmpdir();
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}

describe('an invitation approved by an admin, in the Playground (Adele Vance asks, Alex Wilber approves)', () => {
  let session: E2eSession;
  let adele: ChatClient;
  let alex: SecondClient | undefined;

  beforeAll(async () => {
    session = await startE2eSession({ user: 'Adele Vance' });
    adele = sessionClient(session, 'Adele Vance');
    await adele.waitForText('Here is what you can say');
  });
  afterAll(async () => {
    await alex?.close();
    await session?.close();
  });

  it('tells Adele, who does not own Project Falcon, that an approver decides, and sends it with her reason', async () => {
    await adele.sendMessage('invite Zoe Park <zoe.park@example.org> to Project Falcon');
    await adele.waitForText('Send this request for approval?');
    const confirm = await cardText(adele, 'Send this request for approval?');
    expect(confirm).toContain('You are not an owner of this site, so an approver decides. Confirm sends the request to the approvers');
    expect(confirm).not.toContain('Invite this guest?');
    await screenshotCard(adele, 'Send this request for approval?', docImage('approval-confirm.png'));
    await adele.clickButton('Send for approval');
    await adele.waitForText('Why does Zoe Park need access to Project Falcon?');
    await adele.sendMessage(REASON);

    // Alex has not opened his chat yet, so the card says the request is kept until an approver does.
    await adele.waitForText('Invite Zoe Park to Project Falcon');
    const submitted = await cardText(adele, 'Invite Zoe Park to Project Falcon');
    expect(submitted).toContain('Waiting for a decision');
    expect(submitted).toMatch(/expires in 14 days/);
    expect(submitted).toMatch(/waiting for an approver|Sent for approval/i);
    expect(submitted).not.toContain('${');
    await adele.waitForText('Cancel request', { exact: true });
    await screenshotCard(adele, 'Invite Zoe Park to Project Falcon', path.join('/tmp', 'approvals-sent.png'));
  });

  it('shows Alex, when he opens his chat, the request with her reason once, and he approves it', async () => {
    alex = await openClientFor(session, 'Alex Wilber');
    await alex.waitForText('Guest invitation request');
    const request = await cardText(alex, 'Guest invitation request');
    expect(request).toContain('Invite Zoe Park to Project Falcon');
    expect(request).toContain('Adele Vance');
    expect(request).toContain('zoe.park@example.org');
    expect(request).toContain(REASON);
    // Written to the approver: about Adele, not "You are not an owner".
    expect(request).toContain('Adele Vance is not an owner of Project Falcon.');
    expect(request).not.toContain('You are not an owner');
    expect(request).toMatch(/expires in 14 days/);
    await screenshotCard(alex, 'Guest invitation request', docImage('approval-request.png'));
    // Opening a chat sends two install activities; the card must still arrive only once.
    await alex.waitForText('Here is what you can say');
    expect(await alex.countText('Guest invitation request')).toBe(1);

    await alex.clickButton('Approve');
    await alex.waitForText('Approved by Alex Wilber');
    await alex.waitForText('Zoe Park (zoe.park@example.org) was invited and added to Project Falcon.');
    expect(await alex.page.getByRole('button', { name: 'Approve', exact: true }).count()).toBe(0);
    expect(await cardText(alex, 'Approved by Alex Wilber')).not.toContain('Before you decide');
    await screenshotCard(alex, 'Approved by Alex Wilber', docImage('approval-approved.png'));
  });

  it("puts the result card for Zoe in Adele's chat by itself, with the invitation link", async () => {
    await adele.waitForText('Your request: approved');
    const result = await cardText(adele, 'Your request: approved');
    expect(result).toContain('Approved by Alex Wilber');
    expect(result).toContain('Zoe Park (zoe.park@example.org) was invited and added to Project Falcon.');
    // The same as after a direct invitation: the link to hand over, what Zoe will see, sync.
    expect(result).toContain('Invitation link for Zoe Park');
    expect(result).toContain("Don't open this link yourself: it is for Zoe Park (zoe.park@example.org)");
    expect(result).toContain('What the guest will see');
    expect(result).toContain('OneDrive sync');
    const links = await adele.page.locator('input').evaluateAll((inputs) => inputs.map((i) => (i as unknown as { value: string }).value));
    expect(links.some((v) => /^https:\/\/login\.microsoftonline\.com\/redeem\?/.test(v))).toBe(true);
    await adele.waitForText('Send the invitation email', { exact: true });
    expect(await adele.countText('Open invitation link', { exact: true })).toBe(0);
    // Her "Sent for approval" card was updated too: no copy still waits or offers Cancel.
    for (let i = 0; i < 50 && (await adele.countText('Waiting for a decision')) > 0; i++) await adele.page.waitForTimeout(200);
    expect(await adele.countText('Waiting for a decision')).toBe(0);
    expect(await adele.page.getByRole('button', { name: 'Cancel request', exact: true }).count()).toBe(0);
    await session.screenshotConversation(docImage('approval-result.png'), { fromText: 'Your request: approved', width: 1000 });
  });
});
