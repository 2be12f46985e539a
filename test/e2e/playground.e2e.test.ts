import fs from 'node:fs';
import path from 'node:path';
import { startE2eSession, type E2eSession } from '../support/e2e/session';
import { DEMO_PEOPLE } from '../support/e2e/playgroundConfig';
import { PROJECT_ROOT } from '../support/e2e/processes';

jest.setTimeout(120_000);

describe('the bot in the Microsoft 365 Agents Playground, as Megan Bowen', () => {
  let session: E2eSession;

  beforeAll(async () => {
    session = await startE2eSession();
  });
  afterAll(async () => {
    await session?.close();
  });

  it('welcomes Megan once when the Playground installs the app', async () => {
    await session.waitForText('Here is what you can say');
    expect(await session.countText('Here is what you can say')).toBe(1);
  });

  it('shows the welcome card again, rendered, when Megan says "help"', async () => {
    await session.sendMessage('help');
    // "help" answers Megan as the site owner she is, with buttons for her main actions.
    await session.waitForText('For you, as a site owner');
    await session.waitForTextCount('Stop what we are doing', 2);
    await session.waitForText('Invite many (CSV)', { exact: true });
    expect(await session.countText('Guest onboarding', { exact: true })).toBeGreaterThanOrEqual(2);
    await session.screenshot(path.join('/tmp', 'playground-welcome.png'));
  });

  it('answers "cancel" with nothing running in plain words', async () => {
    await session.sendMessage('cancel');
    await session.waitForText("There's nothing to cancel right now");
  });

  it('can chat as another demo person (Alex Wilber), who gets his own welcome', async () => {
    await session.selectUser('Alex Wilber');
    await session.waitForText('Alex Wilber', { exact: true });
    await session.waitForText('Here is what you can say');
    expect(await session.countText('Here is what you can say')).toBe(1);
  });

  it('keeps the committed Playground file in step with the demo people', () => {
    const committed = fs.readFileSync(path.join(PROJECT_ROOT, '.m365agentsplayground.yml'), 'utf8');
    for (const person of Object.values(DEMO_PEOPLE)) expect(committed).toContain(person.aadObjectId);
    expect(committed).toMatch(/currentUser:[^\S\n]*\n(?:[^\S\n]*#.*\n)?[^\S\n]*id: 29:megan-bowen/);
  });
});
