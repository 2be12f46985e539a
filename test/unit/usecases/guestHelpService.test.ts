/**
 * Guest help as a use case: every answer is data (no card, no Teams type), built from the asker's
 * own account. The Teams rendering of the same answers is covered in test/bot/guestHelp.test.ts.
 */
import type { Actor } from '../../../src/domain/actor';
import { parseEmail, type EmailAddress } from '../../../src/domain/email';
import { RESET_NEEDED_WARNING } from '../../../src/domain/newGuestPrediction';
import { GuestHelpService } from '../../../src/usecases/guestHelp/guestHelpService';
import type {
  GuestInvitation,
  ResetRequestReceipt,
  ResetRequestSink,
  ResetRequestSubmission,
} from '../../../src/usecases/guestHelp/ports';
import { SignInAdvisor } from '../../../src/usecases/signIn/signInAdvisor';
import { DEMO, demoDirectory } from '../../support/directory';

const actor = (user: { id: string; displayName: string }): Actor => ({ userId: user.id, name: user.displayName, tenantId: DEMO.tenantId });
const JORDAN = actor(DEMO.users.jordan);
const MEGAN = actor(DEMO.users.megan);
const LEE_GU = actor(DEMO.users.leeGu);

/** One open request per guest, as the real sink keeps it. */
class RecordingSink implements ResetRequestSink {
  readonly submitted: ResetRequestSubmission[] = [];
  private readonly open = new Map<string, { id: string; requestedAt: string }>();

  async submit(request: ResetRequestSubmission): Promise<ResetRequestReceipt> {
    const key = `${request.tenantId}|${request.userId}`;
    const existing = this.open.get(key);
    if (existing) return { request: existing, alreadyOpen: true };
    this.submitted.push(request);
    const created = { id: `reset-${this.submitted.length}`, requestedAt: '2025-01-15T09:00:00.000Z' };
    this.open.set(key, created);
    return { request: created, alreadyOpen: false };
  }
}

function email(address: string): EmailAddress {
  const parsed = parseEmail(address);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.email;
}

function setup(options: { invitations?: (tenantId: string, address: string) => Promise<GuestInvitation[]> } = {}) {
  const directory = demoDirectory();
  const resetRequests = new RecordingSink();
  const warnings: Array<Record<string, unknown>> = [];
  const service = new GuestHelpService({
    directory,
    advisor: new SignInAdvisor(directory),
    resetRequests,
    invitations: options.invitations ? { listByEmail: (tenantId, address) => options.invitations!(tenantId, address) } : undefined,
    logger: { info: () => undefined, warn: (details: Record<string, unknown>) => warnings.push(details) } as never,
  });
  return { directory, resetRequests, service, warnings };
}

describe('GuestHelpService: answers are data about the asker', () => {
  it('a member asking for a sign-in reset is told no, and nothing is recorded', async () => {
    const { service, resetRequests } = setup();
    const outcome = await service.requestReset(MEGAN);
    expect(outcome.kind).toBe('notAllowed');
    expect(outcome.otp.title).toBe('About sign-in codes');
    expect(resetRequests.submitted).toHaveLength(0);
  });

  it('a guest who has not accepted yet cannot ask for a reset either', async () => {
    const { service, resetRequests } = setup();
    expect((await service.requestReset(LEE_GU)).kind).toBe('notAllowed');
    expect(resetRequests.submitted).toHaveLength(0);
  });

  it('an accepted passcode guest gets a receipt, and asking again finds the open request', async () => {
    const { service, resetRequests } = setup();
    const first = await service.requestReset(JORDAN);
    expect(first).toMatchObject({ kind: 'recorded', alreadyOpen: false, requestId: 'reset-1' });
    expect(resetRequests.submitted).toEqual([
      expect.objectContaining({
        userId: DEMO.users.jordan.id,
        redeemedWith: 'emailOneTimePasscode',
        reason: 'Redeemed with a one-time passcode; their organisation now has Microsoft Entra ID.',
      }),
    ]);
    const again = await service.requestReset(JORDAN);
    expect(again).toMatchObject({ kind: 'recorded', alreadyOpen: true, requestId: 'reset-1', requestedAt: '2025-01-15T09:00:00.000Z' });
    expect(resetRequests.submitted).toHaveLength(1);
  });

  it('the passcode answer for that guest explains the reset and offers it', async () => {
    const { service } = setup();
    const answer = await service.otp(JORDAN);
    expect(answer.showReset).toBe(true);
    expect(answer.hasTenantLink).toBe(true);
    expect(answer.tenantSignInUrl).toBe(`https://myapps.microsoft.com/?tenantid=${DEMO.tenantId}`);
    expect(answer.resetAdvice.join(' ')).toMatch(/tailspintoys\.com now has Microsoft Entra ID/);
  });

  it('a guest asking about another guest gets the advice without that guest’s account details; a member gets them', async () => {
    const { service } = setup();
    const asGuest = await service.advice(email(DEMO.users.leeGu.mail), JORDAN);
    expect(asGuest.advice.existing).toBeNull();
    expect(asGuest.advice.warnings).toEqual([]);
    expect(asGuest.readerIsTheGuest).toBe(false);
    const asMember = await service.advice(email(DEMO.users.leeGu.mail), MEGAN);
    expect(asMember.advice.existing?.userId).toBe(DEMO.users.leeGu.id);
    const aboutSelf = await service.advice(email(DEMO.users.jordan.mail), JORDAN);
    expect(aboutSelf.readerIsTheGuest).toBe(true);
    expect(aboutSelf.advice.warnings).toContain(RESET_NEEDED_WARNING);
  });

  it('"I lost access" names the groups the guest is still in, with their owners', async () => {
    const { service } = setup({ invitations: async () => [] });
    const answer = await service.lostAccess(JORDAN);
    expect(answer.memberOf).toEqual([{ name: 'Project Falcon', owners: 'Megan Bowen' }]);
    expect(answer.intro).toMatch(/still a member of 1 team or group in Contoso \(demo\)/);
  });

  it('when the invitation store fails, the answer still names the groups, and the log names no address', async () => {
    const { service, warnings } = setup({
      invitations: async () => {
        throw new Error('store down');
      },
    });
    const answer = await service.lostAccess(JORDAN);
    expect(answer.memberOf.map((g) => g.name)).toEqual(['Project Falcon']);
    expect(answer.invitedBy).toEqual([]);
    expect(warnings).toEqual([{ step: 'invitations', code: 'unexpected', graphCode: undefined, errorType: 'Error' }]);
    expect(JSON.stringify(warnings)).not.toContain('tailspintoys');
  });

  it('offers its menu for an unrecognised question from a guest, not for a member’s unrelated question', async () => {
    const { service } = setup();
    expect(await service.offersMenuFor('what is this?', JORDAN)).toBe(true);
    expect(await service.offersMenuFor('what is this?', MEGAN)).toBe(false);
    expect(await service.offersMenuFor('where are my files?', MEGAN)).toBe(true);
    expect(await service.offersMenuFor('hello there', JORDAN)).toBe(false);
  });
});
