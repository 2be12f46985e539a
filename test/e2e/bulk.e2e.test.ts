/**
 * Issue "Bulk invitations from a CSV", in the Agents Playground as Megan Bowen (owner of Project
 * Falcon): she pastes a 50-row Name,Email CSV, reads the summary, confirms, watches the progress
 * card turn into the finished summary, and downloads the results file from her personal chat.
 *
 * The CSV goes in through the Playground's "Custom activity" (see sendMultilineMessage): its
 * compose box drops line breaks, so a pasted CSV cannot be sent from there.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../support/e2e/processes';
import { startE2eSession, type E2eSession } from '../support/e2e/session';
import { cardFacts, cardText, screenshotCard, sendMultilineMessage, sessionClient, type ChatClient } from '../support/e2e/flows';

jest.setTimeout(120_000);

const pad = (n: number): string => String(n).padStart(2, '0');

/** 50 data rows: 48 guests at six kinds of domain, one malformed address, one repeated address. */
function partnerCsv(): string[] {
  const rows = ['Name,Email'];
  for (let i = 1; i <= 42; i += 1) rows.push(`Partner ${pad(i)},partner${pad(i)}@example.org`);
  rows.push(
    'Gina Gomez,gina.gomez@gmail.com',
    'Gus Grant,gus.grant@gmail.com',
    'Gail Green,gail.green@gmail.com',
    'Frank Fisher,frank.fisher@fabrikam.com',
    'Fay Ford,fay.ford@fabrikam.com',
    'Walt White,walt.white@wingtiptoys.com',
    'Nora Typo,nora.typo(at)example.org',
    'Partner 01 again,partner01@example.org',
  );
  return rows;
}

/** Documentation images go to docs/images when UPDATE_DOC_IMAGES=1, else to the temp folder. */
function docImage(name: string): string {
  const dir = process.env.UPDATE_DOC_IMAGES === '1' ? path.join(PROJECT_ROOT, 'docs', 'images') : os.tmpdir();
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}

describe('bulk invitations from a pasted CSV, in the Playground as Megan Bowen', () => {
  let session: E2eSession;
  let megan: ChatClient;

  beforeAll(async () => {
    // 20 invitations per 5 s: 48 rows take three windows, so the progress card is seen working.
    session = await startE2eSession({ env: { INVITES_PER_5S: '20' } });
    megan = sessionClient(session, 'Megan Bowen');
    await megan.waitForText('Here is what you can say');
  });
  afterAll(async () => {
    await session?.close();
  });

  it('summarises the pasted CSV before sending anything: 50 rows, 48 to send, 1 invalid, 1 duplicate', async () => {
    await sendMultilineMessage(megan, session.playground, ['bulk invite to Project Falcon', ...partnerCsv()].join('\n'));
    await megan.waitForText('Bulk invitation: check before sending');
    const facts = await cardFacts(megan, 'Bulk invitation: check before sending');
    expect(facts).toMatchObject({ Rows: '50', 'Will be sent': '48', Invalid: '1', Duplicates: '1', 'Blocked domains': '0' });
    const summary = await cardText(megan, 'Bulk invitation: check before sending');
    expect(summary).toContain('nora.typo(at)example.org');
    expect(summary).toMatch(/Google account:\s*3/);
    expect(summary).toMatch(/Project Falcon:\s*48/);
    expect(summary).not.toContain('${');
    await screenshotCard(megan, 'Bulk invitation: check before sending', path.join('/tmp', 'bulk-summary.png'));
  });

  it('runs after Confirm, the progress card updating in place until it shows 48 invited and 0 failed', async () => {
    await megan.clickButton('Confirm');
    await megan.waitForText('Bulk invitation in progress');
    await megan.waitForText('Pace so far:');
    const progress = await cardText(megan, 'Bulk invitation in progress');
    // The pace is measured, never a burst extrapolated to thousands per minute.
    expect(progress).not.toMatch(/per minute/);
    expect(progress).toMatch(/Pace so far:\s*(none finished yet|\d+ in \d+ seconds?)/);
    await screenshotCard(megan, 'Bulk invitation in progress', docImage('bulk-progress.png'));
    await megan.waitForText('Bulk invitation finished', { timeoutMs: 30_000 });
    const facts = await cardFacts(megan, 'Bulk invitation finished');
    expect(facts).toMatchObject({ 'Invited and added': '48', Failed: '0', 'Not sent (invalid, duplicate, blocked)': '2' });
    // Updated in place: the progress card became the finished one instead of staying behind it.
    expect(await megan.countText('Bulk invitation in progress')).toBe(0);
    expect(await megan.countText('Bulk invitation finished')).toBe(1);
    await megan.waitForText('has finished: 48 invited and added, 0 failed');
    // Microsoft emailed nobody (SEND_INVITATION_EMAIL=false): the card says so, where the links are, and offers the email.
    const finished = await cardText(megan, 'Bulk invitation finished');
    expect(finished).toContain('Did the guests get an email?');
    expect(finished).toContain('Microsoft did not email any of the 48 new guests');
    expect(finished).toContain('results file (column inviteRedeemUrl)');
    await megan.waitForText("Send Microsoft's invitation email to these guests", { exact: true });
    await screenshotCard(megan, 'Bulk invitation finished', docImage('bulk-finished.png'));
  });

  it("has Microsoft email the 48 guests from the finished card, and the card then says they were emailed", async () => {
    await megan.clickButton("Send Microsoft's invitation email to these guests");
    await megan.waitForText('Microsoft emailed the invitation to 48 guests.', { timeoutMs: 40_000 });
    const after = await cardText(megan, 'Bulk invitation finished');
    expect(after).toContain('Microsoft emailed the invitation to all 48 new guests');
    expect(await megan.countText("Send Microsoft's invitation email to these guests", { exact: true })).toBe(0);
    await screenshotCard(megan, 'Bulk invitation finished', docImage('bulk-emailed.png'));
  });

  it('gives Megan a results link in her personal chat that downloads the results CSV', async () => {
    await megan.clickButton('Get the results file');
    await megan.waitForText('/bulk/results?t=');
    const finished = await cardText(megan, '/bulk/results?t=');
    const link = /https?:\/\/\S+\/bulk\/results\?t=[^\s"]+/.exec(finished)?.[0];
    expect(link).toBeDefined();
    await screenshotCard(megan, '/bulk/results?t=', path.join('/tmp', 'bulk-results-link.png'));

    // Opened in the same browser, as she would: a CSV download with one line per row she sent.
    const response = await megan.page.context().request.get(link ?? '');
    expect(response.status()).toBe(200);
    expect(response.headers()['content-disposition']).toMatch(/attachment; filename="bulk-invite-results-.*\.csv"/);
    const csv = await response.text();
    const lines = csv.trim().split(/\r?\n/);
    expect(lines).toHaveLength(51);
    expect(lines.filter((line) => /success/i.test(line))).toHaveLength(48);
    expect(csv).toContain('partner42@example.org');
    expect(csv).toContain('nora.typo(at)example.org');
  });
});
