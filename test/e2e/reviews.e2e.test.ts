/**
 * Issue "Owners and admins see their guests", in the Agents Playground on the demo tenant: Megan
 * Bowen, who owns Project Falcon, types "review Project Falcon", gets the review card with every
 * guest of the site (their sponsor, dates, sign-in method, last sign-in, the inactive flag), keeps
 * Jordan Lee and removes Omar Haddad; the card is updated in place after each click.
 */
import type { Locator } from 'playwright-core';
import { expectRenderedCleanly } from '../support/e2e/chat';
import { startE2eSession, type E2eSession } from '../support/e2e/session';
import { cardText, screenshotCard, sessionClient, type ChatClient } from '../support/e2e/flows';

jest.setTimeout(120_000);

const HEADING = 'Access review: Project Falcon';

describe('an owner reviews Project Falcon’s guests in the Playground (Megan Bowen)', () => {
  let session: E2eSession;
  let megan: ChatClient;

  beforeAll(async () => {
    session = await startE2eSession({ user: 'Megan Bowen' });
    megan = sessionClient(session, 'Megan Bowen');
    await megan.waitForText('Here is what you can say');
  });
  afterAll(async () => {
    await session?.close();
  });

  /** The part of the newest review card about one guest (the container with their name and their own buttons). */
  const guestPart = (name: string, others: string[]): Locator => {
    const card = megan.page.locator('.ac-adaptiveCard', { has: megan.page.getByText(HEADING) }).last();
    let part = card.locator('.ac-container', { has: megan.page.getByText(name, { exact: true }) });
    for (const other of others) part = part.filter({ hasNotText: other });
    return part.last();
  };

  const everyone = ['Isabel Ruiz', 'Jordan Lee', 'Nora Quinn', 'Omar Haddad', 'Priya Shah'];

  it('answers "review Project Falcon" with one card listing every guest of the site', async () => {
    await megan.sendMessage('review Project Falcon');
    await megan.waitForText(HEADING);
    const card = await cardText(megan, HEADING);
    expectRenderedCleanly(card);
    for (const name of everyone) expect(card).toContain(name);
    expect(card).toMatch(/5 of 5 guests to decide/);
    // Jordan works in Teams: his last sign-in is the non-interactive one 3 days ago, not the interactive one 200 days ago.
    expect(card).toMatch(/3 days ago \(non-interactive, e\.g\. Teams\)/);
    // Omar has not signed in for 125 days: flagged.
    expect(card).toContain('INACTIVE');
    expect(card).toContain('Signs in with: one-time passcode sent by email');
    expect(card).toContain('never: has not accepted the invitation');
    expect(card).toContain('Keep all');
  });

  it('keeps Jordan Lee and removes Omar Haddad, the card updated in place after each click', async () => {
    await guestPart('Jordan Lee', everyone.filter((n) => n !== 'Jordan Lee')).getByRole('button', { name: 'Keep', exact: true }).click();
    await megan.waitForText('You kept Jordan Lee.');
    await megan.waitForText('Kept by Megan Bowen');
    expect(await megan.countText(HEADING)).toBe(1);

    const omar = guestPart('Omar Haddad', everyone.filter((n) => n !== 'Omar Haddad'));
    await omar.getByRole('button', { name: 'Remove…', exact: true }).click();
    await megan.clickButton('Remove Omar Haddad');
    await megan.waitForText('Omar Haddad no longer has access to Project Falcon.');
    await megan.waitForText('Removed by Megan Bowen');
    const card = await cardText(megan, HEADING);
    expectRenderedCleanly(card);
    expect(card).toMatch(/3 of 5 guests to decide/);
    expect(await megan.countText(HEADING)).toBe(1);
    await screenshotCard(megan, HEADING, '/tmp/review.png');
  });

  it('shows the same decisions when the review is asked for again (they were applied once, and kept)', async () => {
    await megan.sendMessage('review Project Falcon');
    await megan.waitForText('This is the open review of Project Falcon.');
    const card = await cardText(megan, 'This is the open review of Project Falcon.');
    expect(card).toContain('Kept by Megan Bowen');
    expect(card).toContain('Removed by Megan Bowen');
  });
});
