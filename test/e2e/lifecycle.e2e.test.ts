/**
 * Issue "Guest lifecycle", in the Agents Playground right after an `npm start`-like start (the
 * bot built in dist/, local mode, a fresh data folder, the demo guests at each stage): Megan Bowen
 * opens her chat, gets the reminder that Isabel Ruiz has not accepted her invitation to Project
 * Falcon (kept for her until she first talked to the bot), presses Resend, and the card shows the
 * new invitation link in place of the buttons.
 */
import { startE2eSession, type E2eSession } from '../support/e2e/session';
import { cardText, screenshotCard, sessionClient, type ChatClient } from '../support/e2e/flows';

jest.setTimeout(120_000);

const REDEEM_URL = /https:\/\/login\.microsoftonline\.com\/redeem\?\S+/;
const REMINDER = 'Isabel Ruiz has not accepted the invitation to Project Falcon';

async function linkFieldValues(megan: ChatClient): Promise<string[]> {
  const values = await megan.page.locator('input').evaluateAll((inputs) => inputs.map((i) => (i as unknown as { value: string }).value));
  return values.filter((v) => REDEEM_URL.test(v));
}

describe('the guest lifecycle in the Playground, as Megan Bowen right after start', () => {
  let session: E2eSession;
  let megan: ChatClient;

  beforeAll(async () => {
    session = await startE2eSession({ user: 'Megan Bowen' });
    megan = sessionClient(session, 'Megan Bowen');
    await megan.waitForText('Here is what you can say', { timeoutMs: 30_000 });
  });
  afterAll(async () => {
    await session?.close();
  });

  it('shows Megan the unredeemed reminder with Resend, Withdraw and Keep waiting', async () => {
    await megan.waitForText(REMINDER, { timeoutMs: 30_000 });
    const reminder = await cardText(megan, REMINDER);
    expect(reminder).toContain('was invited to Project Falcon 10 days ago');
    expect(reminder).toContain('isabel.ruiz@fabrikam.com');
    expect(reminder).not.toContain('${');
    const titles = (await session.cardActions(REMINDER)).map((a) => a.title);
    expect(titles).toEqual(expect.arrayContaining(['Resend', 'Withdraw…', 'Keep waiting']));
    await screenshotCard(megan, REMINDER, '/tmp/lifecycle-reminder.png');
    // The renewal reminder and the ended access reached her too.
    await megan.waitForText("Nora Quinn's access to Project Falcon ends soon");
    await megan.waitForText("Omar Haddad's access to Project Falcon has ended");
    expect(await megan.countText(REMINDER)).toBe(1);
  });

  it('Resend replaces the buttons with the new invitation link', async () => {
    expect(await linkFieldValues(megan)).toEqual([]);
    await megan.clickButton('Resend');
    await megan.waitForText('A new invitation for Isabel Ruiz is ready', { timeoutMs: 20_000 });
    const result = await cardText(megan, 'A new invitation for Isabel Ruiz is ready');
    expect(result).toContain('Send this link to Isabel Ruiz (isabel.ruiz@fabrikam.com)');
    const [link] = await linkFieldValues(megan);
    expect(link).toMatch(REDEEM_URL);
    await screenshotCard(megan, 'A new invitation for Isabel Ruiz is ready', '/tmp/lifecycle-resent.png');
    // The card was updated in place: no Resend left to press twice.
    expect(await megan.countText(REMINDER)).toBe(0);
  });
});
