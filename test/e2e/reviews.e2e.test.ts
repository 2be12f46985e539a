/**
 * Issue "Owners and admins see their guests", in the Agents Playground on the demo tenant: Megan
 * Bowen, who owns Project Falcon, types "review Project Falcon", gets the review card with every
 * guest of the site (their sponsor, dates, sign-in method, last sign-in, the inactive flag), keeps
 * Jordan Lee and removes Priya Shah (inactive); the card is updated in place after each click.
 * (Omar Haddad, whose access ended yesterday in the demo, has left the site by then: the
 * scheduler's first pass at start-up ended it.)
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

  const everyone = ['Isabel Ruiz', 'Jordan Lee', 'Nora Quinn', 'Priya Shah'];

  it('answers "review Project Falcon" with one card listing every guest of the site', async () => {
    await megan.sendMessage('review Project Falcon');
    await megan.waitForText(HEADING);
    const card = await cardText(megan, HEADING);
    expectRenderedCleanly(card);
    for (const name of everyone) expect(card).toContain(name);
    expect(card).toMatch(/4 of 4 guests to decide/);
    expect(card).not.toContain('Omar Haddad');
    // Jordan works in Teams: his last sign-in is the non-interactive one 3 days ago, not the interactive one 200 days ago.
    expect(card).toMatch(/3 days ago \(non-interactive, e\.g\. Teams\)/);
    // Priya has not signed in for 100 days: flagged.
    expect(card).toMatch(/Priya Shah\s+priya\.shah@gmail\.com\s+· INACTIVE/);
    expect(card).toMatch(/1 inactive for 90 days or more/);
    expect(card).toContain('Signs in with: one-time passcode sent by email');
    expect(card).toContain('never: has not accepted the invitation');
    expect(card).toContain('Keep all');
  });

  it('keeps Jordan Lee and removes Priya Shah, the card updated in place after each click', async () => {
    await guestPart('Jordan Lee', everyone.filter((n) => n !== 'Jordan Lee')).getByRole('button', { name: 'Keep', exact: true }).click();
    await megan.waitForText('You kept Jordan Lee.');
    await megan.waitForText('Kept by Megan Bowen');
    expect(await megan.countText(HEADING)).toBe(1);

    const priya = guestPart('Priya Shah', everyone.filter((n) => n !== 'Priya Shah'));
    await priya.getByRole('button', { name: 'Remove…', exact: true }).click();
    await megan.clickButton('Remove Priya Shah');
    await megan.waitForText('Priya Shah no longer has access to Project Falcon.');
    await megan.waitForText('Removed by Megan Bowen');
    const card = await cardText(megan, HEADING);
    expectRenderedCleanly(card);
    expect(card).toMatch(/2 of 4 guests to decide/);
    expect(await megan.countText(HEADING)).toBe(1);
    // Tall enough for the whole card, so no toolbar of the Playground lies over it.
    await megan.page.setViewportSize({ width: 900, height: 2200 });
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
