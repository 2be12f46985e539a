/**
 * A guest invited from chat gets a recorded access (the guest lifecycle's) with its sponsor and
 * end date, and the cards say when the access ends.
 */
import { ScheduledWorkRunner } from '../../src/usecases/scheduling/workRunner';
import { AccessRecording, RECORD_ACCESS_WORK, type AccessRecorder } from '../../src/usecases/invite/accessRecording';
import { DEMO } from '../support/directory';
import { cardsIn, inviteBot, visibleText, type BotHarness } from '../support/dialogHarness';

const FALCON = DEMO.groups.projectFalcon;
const MARKETING = DEMO.groups.marketing;
const { megan, jordan, adele } = DEMO.users;
/** DEMO_NOW (15 Jan 2025) + GUEST_ACCESS_DAYS (180). */
const ENDS = '2025-07-14T09:00:00.000Z';

async function inviteJane(bot: BotHarness, site = 'Project Falcon'): Promise<{ confirm: string; result: string }> {
  const confirm = visibleText(await bot.say(`invite Jane Doe <jane@fabrikam.com> to ${site}`));
  const result = visibleText(await bot.submit({ inviteAction: 'confirm' }));
  return { confirm, result };
}

async function accessOf(bot: BotHarness, groupId: string, userId: string) {
  return bot.store.guestAccess.findByKey({ tenantId: DEMO.tenantId, groupId, userId });
}

describe('an invitation from chat records the guest access', () => {
  it('the confirmation and result cards say when access ends, and the record has the inviter as sponsor', async () => {
    const bot = inviteBot();
    const { confirm, result } = await inviteJane(bot);
    expect(confirm).toContain('Access ends on 14 July 2025');
    expect(confirm).toContain("You become the guest's sponsor");
    expect(result).toContain('Jane Doe is invited to Project Falcon');
    expect(result).toContain('Access ends on 14 July 2025');
    expect(result).toContain('Sponsor: Megan Bowen');

    const invitation = bot.directory.snapshot().invitations[0];
    const userId = invitation?.userId as string;
    const access = await accessOf(bot, FALCON.id, userId);
    expect(access).toMatchObject({ state: 'invited', endsAt: ENDS, sponsor: { id: megan.id, name: 'Megan Bowen' }, siteName: 'Project Falcon' });
    expect(access?.invitationRecordId).toBeTruthy();
    // The invitation itself named the sponsor (invitedUserSponsors): Entra has it.
    expect((await bot.directory.listSponsors(userId)).map((s) => s.id)).toEqual([megan.id]);
    // Reminders and the end are scheduled.
    const kinds = (await bot.store.scheduledWork.listBySubject(access?.id as string)).map((w) => w.kind);
    expect(kinds).toEqual(expect.arrayContaining(['lifecycle.unredeemedReminder', 'lifecycle.endOfAccess']));
  });

  it('a site configured without an end says "No end date" and records none', async () => {
    const bot = inviteBot({ lifecycle: { siteAccessDays: { [FALCON.id.toLowerCase()]: null } } });
    const { confirm, result } = await inviteJane(bot);
    expect(confirm).toContain('No end date');
    expect(confirm).not.toContain('Access ends on');
    expect(result).toContain('No end date');
    const userId = bot.directory.snapshot().invitations[0]?.userId as string;
    expect((await accessOf(bot, FALCON.id, userId))?.endsAt).toBeNull();
  });

  it("a site's own period (GUEST_ACCESS_DAYS_BY_SITE) sets the end", async () => {
    const bot = inviteBot({ lifecycle: { siteAccessDays: { [FALCON.id.toLowerCase()]: 30 } } });
    const { confirm } = await inviteJane(bot);
    expect(confirm).toContain('Access ends on 14 February 2025');
    const userId = bot.directory.snapshot().invitations[0]?.userId as string;
    expect((await accessOf(bot, FALCON.id, userId))?.endsAt).toBe('2025-02-14T09:00:00.000Z');
  });

  it('an existing guest added to one more site counts as redeemed and gets the inviter added as sponsor', async () => {
    const bot = inviteBot();
    await bot.say(`invite Jordan Lee <${jordan.mail}> to Marketing`);
    const result = visibleText(await bot.submit({ inviteAction: 'confirm' }));
    expect(result).toContain('Access ends on 14 July 2025');
    expect(bot.directory.snapshot().invitations).toHaveLength(0);
    const access = await accessOf(bot, MARKETING.id, jordan.id);
    expect(access).toMatchObject({ state: 'accepted', sponsor: { id: megan.id }, endsAt: ENDS });
    expect((await bot.directory.listSponsors(jordan.id)).map((s) => s.id)).toContain(megan.id);
  });

  it('someone from the organisation is added without any guest access record', async () => {
    const bot = inviteBot();
    await bot.say(`invite Adele Vance <${adele.mail}> to Marketing`);
    const result = visibleText(await bot.submit({ inviteAction: 'confirm' }));
    expect(result).toContain('Adele Vance was added to Marketing');
    expect(result).not.toContain('Access ends on');
    expect(await accessOf(bot, MARKETING.id, adele.id)).toBeNull();
  });

  it('"status of" and "my invitations" show the recorded end and sponsor', async () => {
    const bot = inviteBot();
    await inviteJane(bot);
    const status = visibleText(await bot.say('status of jane@fabrikam.com'));
    expect(status).toContain('Access ends on 14 July 2025');
    expect(status).toContain('Sponsor: Megan Bowen');
    const mine = visibleText(await bot.say('my invitations'));
    expect(mine).toContain('Access ends on 14 July 2025');
  });

  it('without the guest lifecycle nothing is recorded and no end date is promised', async () => {
    const bot = inviteBot({ lifecycle: false });
    const { confirm, result } = await inviteJane(bot);
    expect(confirm).not.toMatch(/Access ends on|No end date/);
    expect(result).not.toMatch(/Access ends on|No end date/);
    expect(result).toContain('Jane Doe is invited to Project Falcon');
  });
});

describe('a failure to record the access never fails the invitation', () => {
  const failing: AccessRecorder = {
    recordAccess: async () => {
      throw new Error('the store is unavailable');
    },
  };

  it('the guest is invited and in the group, the result card still shows the end, and due work records it later', async () => {
    const bot = inviteBot({ recorder: failing });
    const { result } = await inviteJane(bot);
    expect(result).toContain('Jane Doe is invited to Project Falcon');
    expect(result).toContain('Access ends on 14 July 2025');
    const invitation = bot.directory.snapshot().invitations[0];
    const userId = invitation?.userId as string;
    expect(bot.directory.snapshot().groups.find((g) => g.id === FALCON.id)?.members).toContain(userId);
    expect(await accessOf(bot, FALCON.id, userId)).toBeNull();

    const record = await bot.invitations.findByKey({ tenantId: DEMO.tenantId, emailNormalised: 'jane@fabrikam.com', groupId: FALCON.id });
    expect(record?.state).toBe('completed');
    const due = await bot.store.scheduledWork.get(RECORD_ACCESS_WORK, record?.id as string);
    expect(due).not.toBeNull();
    // No address or name in the due work: ids and facts only.
    expect(JSON.stringify(due?.payload)).not.toMatch(/jane|fabrikam/i);

    // The scheduler (here a runner over the same store, with the lifecycle working again) records it.
    const recording = new AccessRecording({
      recorder: bot.lifecycle,
      work: bot.store.scheduledWork,
      invitations: bot.invitations,
      accessRecords: bot.store.guestAccess,
      settings: bot.lifecycleSettings,
      clock: bot.clock,
    });
    const runner = new ScheduledWorkRunner({ work: bot.store.scheduledWork, holderId: bot.store.holders.holderId, clock: bot.clock, handlers: recording.handlers() });
    bot.clock.advance(2 * 60_000);
    await runner.runOnce();
    // Counted from the invitation, not from the retry.
    expect(await accessOf(bot, FALCON.id, userId)).toMatchObject({ sponsor: { id: megan.id }, endsAt: ENDS, invitedAt: '2025-01-15T09:00:00.000Z' });
    expect(await bot.store.scheduledWork.get(RECORD_ACCESS_WORK, record?.id as string)).toBeNull();
  });

  it('asking for the same invitation again records a lost recording (idempotent: one record)', async () => {
    let fail = true;
    const bot = inviteBot({
      recorder: {
        recordAccess: async (input) => {
          if (fail) throw new Error('the store is unavailable');
          return bot.lifecycle.recordAccess(input);
        },
      },
    });
    await inviteJane(bot);
    fail = false;
    const again = await inviteJane(bot);
    expect(again.result).toContain('already done');
    const userId = bot.directory.snapshot().invitations[0]?.userId as string;
    expect(await accessOf(bot, FALCON.id, userId)).toMatchObject({ sponsor: { id: megan.id }, endsAt: ENDS });
    await inviteJane(bot);
    expect(await bot.store.guestAccess.listByGroup(DEMO.tenantId, FALCON.id)).toHaveLength(1);
    expect(bot.directory.snapshot().invitations).toHaveLength(1);
  });

  it('the cards show one access end each, rendered in a card (not in markdown)', async () => {
    const bot = inviteBot();
    await bot.say('invite Jane Doe <jane@fabrikam.com> to Project Falcon');
    const cards = cardsIn(await bot.submit({ inviteAction: 'confirm' }));
    const json = JSON.stringify(cards[0]);
    expect(json).toContain('{"type":"TextRun","text":"Access ends on 14 July 2025","weight":"Bolder"}');
  });
});
