/**
 * Guest help and sign-in advice from a real client: the Agents Playground drives the compiled bot
 * against the demo tenant. Megan Bowen (a member) asks which sign-in a partner would get; Jordan
 * Lee (a guest who accepted with a one-time passcode) asks why he keeps getting codes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expectRenderedCleanly } from '../support/e2e/chat';
import { startE2eSession, type E2eSession } from '../support/e2e/session';
import { DEMO_TENANT_ID } from '../support/e2e/playgroundConfig';
import { PROJECT_ROOT } from '../support/e2e/processes';

jest.setTimeout(120_000);

const TENANT_SIGN_IN_URL = `https://myapps.microsoft.com/?tenantid=${DEMO_TENANT_ID}`;
// The documentation image is refreshed only when asked (UPDATE_DOC_IMAGES=1), so a test run leaves the tree clean.
const OTP_HELP_IMAGE = path.join(process.env.UPDATE_DOC_IMAGES === '1' ? path.join(PROJECT_ROOT, 'docs', 'images') : os.tmpdir(), 'guest-otp-help.png');

describe('sign-in advice and guest help in the Microsoft 365 Agents Playground', () => {
  let session: E2eSession;

  beforeAll(async () => {
    session = await startE2eSession();
    await session.waitForText('Here is what you can say', { timeoutMs: 30_000 });
  });
  afterAll(async () => {
    await session?.close();
  });

  describe('as the site owner Megan Bowen', () => {
    it('says someone@gmail.com will sign in with Google, because the tenant has Google federation', async () => {
      await session.sendMessage('what sign-in will someone@gmail.com get?');
      const card = await session.cardText('someone@gmail.com');
      expectRenderedCleanly(card);
      expect(card).toContain('Which sign-in they will get');
      expect(card).toContain('Sign-in: Google account');
      expect(card).toContain('Contoso (demo) has Google federation set up');
      expect(card).toContain('OneDrive sync: Not available');
    });

    it('says someone@fabrikam.com will use their work or school account, because Fabrikam is an Entra tenant', async () => {
      await session.sendMessage('what sign-in will someone@fabrikam.com get?');
      const card = await session.cardText('someone@fabrikam.com');
      expectRenderedCleanly(card);
      expect(card).toContain('Sign-in: Work or school account (Microsoft Entra ID)');
      expect(card).toContain('fabrikam.com belongs to the Microsoft Entra tenant "Fabrikam"');
      expect(card).toContain('OneDrive sync: Available');
    });

    it("says someone@wingtiptoys.com will use their organisation's SAML/WS-Fed sign-in, naming the federation", async () => {
      await session.sendMessage('what sign-in will someone@wingtiptoys.com get?');
      const card = await session.cardText('someone@wingtiptoys.com');
      expectRenderedCleanly(card);
      expect(card).toContain("Sign-in: Their organisation's own sign-in (SAML/WS-Fed federation)");
      expect(card).toContain('wingtiptoys.com does not belong to any Microsoft Entra tenant');
      expect(card).toContain('https://sts.wingtiptoys.com/adfs/services/trust');
    });

    it('says an invitation to someone@litware.com would be refused, naming the block list and where to change it', async () => {
      await session.sendMessage('what sign-in will someone@litware.com get?');
      const card = await session.cardText('someone@litware.com');
      expectRenderedCleanly(card);
      expect(card).toContain('Sign-in: None: an invitation would be refused');
      expect(card).toContain('An invitation would be refused');
      expect(card).toContain("litware.com is on the tenant's B2B block list");
      expect(card).toMatch(/Who can change it:\s*a Global Administrator/);
      expect(card).toContain('External collaboration settings');
      // For a person to look at: the four answers as rendered.
      await session.screenshotConversation(path.join('/tmp', 'guest-help-advice.png'), {
        fromText: 'what sign-in will someone@gmail.com get?',
        width: 1000,
      });
    });
  });

  describe('as the guest Jordan Lee, who accepted with a one-time passcode', () => {
    beforeAll(async () => {
      await session.selectUser('Jordan Lee');
      await session.waitForText('Jordan Lee', { exact: true });
    });

    it('explains his one-time passcodes from his own account, with the facts and his tenant sign-in link', async () => {
      await session.sendMessage('why did I get a code?');
      const card = await session.cardText('Why you get a one-time passcode');
      expectRenderedCleanly(card);
      expect(card).toContain('Jordan Lee, you accepted your invitation to Contoso (demo)');
      expect(card).toContain('with a one-time passcode sent to jordan.lee@tailspintoys.com');
      expect(card).toContain('A code is valid for 30 minutes');
      expect(card).toContain('your session lasts 24 hours');
      // The link is the button, once; the text gives the current guidance instead of repeating it.
      expect(card).not.toContain(TENANT_SIGN_IN_URL);
      expect(card).toContain('Sign in to an organization');
      // His company has since got Entra, yet codes continue until an admin resets his redemption.
      expect(card).toContain('tailspintoys.com now has Microsoft Entra ID');
      expect(card).toContain('until an admin resets your sign-in (redemption)');
      expect(await session.cardActions('Why you get a one-time passcode')).toEqual([
        { title: 'Ask an admin to reset my sign-in', url: null },
        { title: 'Sign in to Contoso (demo)', url: TENANT_SIGN_IN_URL },
      ]);
      fs.mkdirSync(path.dirname(OTP_HELP_IMAGE), { recursive: true });
      await session.screenshotConversation(OTP_HELP_IMAGE, { fromText: 'why did I get a code?', width: 1000 });
      expect(fs.statSync(OTP_HELP_IMAGE).size).toBeLessThan(300_000);
    });

    it('records his reset request when he presses the button, and the card says so in place of the button', async () => {
      await session.clickButton('Ask an admin to reset my sign-in');
      await session.waitForText('Recorded: an admin will review your request.');
      const card = await session.cardText('Recorded: an admin will review your request.');
      expectRenderedCleanly(card);
      expect(card).toContain('Why you get a one-time passcode');
      expect(await session.cardActions('Recorded: an admin will review your request.')).toEqual([
        { title: 'Sign in to Contoso (demo)', url: TENANT_SIGN_IN_URL },
      ]);
    });
  });
});
