import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { loadConfig } from '../../../src/app/config';
import restify from 'restify';
import { ResultsLinkSigner } from '../../../src/usecases/bulk/resultsLink';
import { TEAMS_FILE_DOWNLOAD } from '../../../src/teams/bulk/bulkInput';
import { paceText } from '../../../src/teams/bulk/cards/progressCard';
import { bulkBot, jobIdOf, textOf, type BulkBot } from '../../support/bulkBot';
import { DEMO } from '../../support/directory';
import { invitationsPerAddress } from '../../support/bulkEnv';

const PASTED = [
  'bulk invite to Project Falcon',
  'Name,Email',
  'Ana Silva,ana@example.org',
  'Bo Chen,bo@fabrikam.com',
  'Ana Again,ANA@example.org',
  'Blocked Person,someone@litware.com',
  'Adele Vance,adele.vance@contoso.com',
  'Broken,not-an-address',
].join('\n');

async function summaryOf(bot: BulkBot, text = PASTED): Promise<Record<string, unknown>> {
  const replies = await bot.say(text);
  const card = replies[0]?.attachments?.[0]?.content as Record<string, unknown> | undefined;
  if (!card) throw new Error(`no summary card: ${textOf(replies)}`);
  return card;
}

describe('bulk invitations through the bot', () => {
  it('"bulk invite" explains how to send a file', async () => {
    const bot = bulkBot();
    const text = textOf(await bot.say('bulk invite'));
    expect(text).toContain('attach a CSV');
    expect(text).toContain('Name,Email');
  });

  it('pasted CSV gets a summary with counts, reasons and predicted sign-in methods, and nothing is sent yet', async () => {
    const bot = bulkBot();
    const card = await summaryOf(bot);
    const text = textOf(card);
    expect(text).toContain('Bulk invitation: check before sending');
    const facts = Object.fromEntries(((card.body as Array<{ facts?: Array<{ title: string; value: string }> }>)[2]?.facts ?? []).map((f) => [f.title, f.value]));
    expect(facts).toMatchObject({ Rows: '6', 'Will be sent': '3', Invalid: '1', Duplicates: '1', 'Blocked domains': '1', 'Internal addresses': '1' });
    expect(text).toMatch(/Row 7: [\s\S]*not-an-address/);
    expect(text).toContain('work or school account');
    expect(text).toContain('one-time passcode');
    expect(bot.env.fake.callCount('invite')).toBe(0);
  });

  it('confirm starts the job at once; the progress card is updated in place and ends with a summary', async () => {
    const bot = bulkBot();
    const jobId = jobIdOf(await summaryOf(bot));
    const response = await bot.execute('bulk.confirm', { jobId }, { replyToId: 'summary-card' });
    expect(textOf(response)).toContain('Bulk invitation in progress');
    await bot.feature.runner.whenFinished(jobId);

    expect(await bot.env.jobs.counts(jobId)).toMatchObject({ done: 3, invalid: 2, duplicate: 1 });
    expect([...invitationsPerAddress(bot.env.fake).keys()].sort()).toEqual(['ana@example.org', 'bo@fabrikam.com']);
    const updates = bot.notifier.notices.filter((n) => n.kind === 'update');
    expect(updates.every((u) => u.activityId === 'summary-card')).toBe(true);
    expect(textOf(updates.at(-1)?.card)).toContain('Bulk invitation finished');
    expect(bot.notifier.notices.some((n) => n.kind === 'send' && n.text?.includes('has finished'))).toBe(true);
  });

  it('a second click on Confirm does not start a second job', async () => {
    const bot = bulkBot();
    const jobId = jobIdOf(await summaryOf(bot));
    await bot.execute('bulk.confirm', { jobId });
    await bot.execute('bulk.confirm', { jobId });
    await bot.feature.runner.whenFinished(jobId);
    expect(bot.env.fake.callCount('invite')).toBe(2);
  });

  it("someone else's click on Confirm changes nothing and says who can confirm", async () => {
    const bot = bulkBot({ conversation: 'groupChat' });
    const jobId = jobIdOf(await summaryOf(bot));
    const response = await bot.execute('bulk.confirm', { jobId }, { as: 'adele' });
    expect(textOf(response)).toContain('Only Megan Bowen can confirm');
    expect((await bot.env.jobs.get(jobId))?.state).toBe('draft');
    // Nothing of the file comes back to them: no rows, counts, addresses or buttons.
    for (const verb of ['bulk.confirm', 'bulk.cancel', 'bulk.results']) {
      const card = JSON.stringify(await bot.execute(verb, { jobId }, { as: 'adele' }));
      expect(card).toContain('Nothing was changed');
      for (const secret of ['ana@example.org', 'pasted text', 'Will be sent', 'Action.Execute']) expect(card).not.toContain(secret);
    }
    expect((await bot.env.jobs.get(jobId))?.state).toBe('draft');
  });

  it('look-alike addresses are listed with their ASCII form and sent only once the owner ticks that they checked them', async () => {
    const bot = bulkBot();
    const card = await summaryOf(
      bot,
      ['bulk invite to Project Falcon', 'Name,Email', 'Ana Silva,ana@example.org', 'Jane Fake,jane@gmаil.com', 'Anna Genuine,anna@münchen.de', 'Jane Punycode,jane2@xn--gmil-63d.com'].join('\n'),
    );
    const text = textOf(card);
    expect(text).toContain('3 addresses have internationalised domains that may imitate others');
    for (const [display, ascii] of [
      ['jane@gmаil.com', 'jane@xn--gmil-63d.com'],
      ['anna@münchen.de', 'anna@xn--mnchen-3ya.de'],
      ['jane2@gmаil.com', 'jane2@xn--gmil-63d.com'],
    ]) {
      expect(text).toContain(display);
      expect(text).toContain(ascii);
    }
    expect(text).toContain('mixes Latin and Cyrillic letters');
    expect(text).not.toMatch(/Row 3:[^\n]*ana@example\.org/);
    expect(JSON.stringify(card)).toContain('"id":"lookAlikeConfirmed"');
    const jobId = jobIdOf(card);

    for (const data of [{ jobId }, { jobId, lookAlikeConfirmed: 'false' }]) {
      const refused = textOf(await bot.execute('bulk.confirm', data));
      expect(refused).toContain('tick "I checked these addresses"');
      expect((await bot.env.jobs.get(jobId))?.state).toBe('draft');
    }
    expect(textOf(await bot.execute('bulk.confirm', { jobId, lookAlikeConfirmed: 'true' }))).toContain('Bulk invitation in progress');
    await bot.feature.runner.whenFinished(jobId);
    expect([...invitationsPerAddress(bot.env.fake).keys()].sort()).toEqual(
      ['ana@example.org', 'anna@xn--mnchen-3ya.de', 'jane2@xn--gmil-63d.com', 'jane@xn--gmil-63d.com'].sort(),
    );
  });

  it('a file of plain ASCII addresses has no look-alike box and confirms without the tick', async () => {
    const bot = bulkBot();
    const card = await summaryOf(bot, 'bulk invite to Project Falcon\nName,Email\nAna Silva,ana@example.org\n');
    expect(JSON.stringify(card)).not.toContain('lookAlikeConfirmed');
    expect(textOf(await bot.execute('bulk.confirm', { jobId: jobIdOf(card) }))).toContain('Bulk invitation in progress');
  });

  it('Cancel on the summary discards the draft; nothing is sent', async () => {
    const bot = bulkBot();
    const jobId = jobIdOf(await summaryOf(bot));
    expect(textOf(await bot.execute('bulk.cancel', { jobId }))).toContain('Nothing was sent');
    expect(textOf(await bot.execute('bulk.confirm', { jobId }))).toContain('cancelled; nothing was sent');
    expect(bot.env.fake.callCount('invite')).toBe(0);
  });

  it('only the requester or an approver can cancel a running job', async () => {
    const bot = bulkBot({ conversation: 'groupChat' });
    const jobId = jobIdOf(await summaryOf(bot));
    // Hold the job before its first invitation so the cancel lands while it runs.
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const invite = bot.env.fake.invite.bind(bot.env.fake);
    bot.env.fake.invite = async (input) => {
      await gate;
      return invite(input);
    };
    await bot.execute('bulk.confirm', { jobId });
    const refused = await bot.execute('bulk.cancel', { jobId }, { as: 'adele' });
    expect(textOf(refused)).toContain('Only Megan Bowen or an approver can cancel');
    expect((await bot.env.jobs.get(jobId))?.state).toBe('running');
    await bot.execute('bulk.cancel', { jobId }, { as: 'alex' });
    release();
    await bot.feature.runner.whenFinished(jobId);
    expect((await bot.env.jobs.get(jobId))?.state).toBe('cancelled');
  });

  it('asks which site when the owner has several and the file does not say', async () => {
    const bot = bulkBot();
    const card = await summaryOf(bot, 'Name,Email\nAna,ana@example.org\n');
    expect(JSON.stringify(card)).toContain('Input.ChoiceSet');
    const jobId = jobIdOf(card);
    expect(textOf(await bot.execute('bulk.confirm', { jobId }))).toContain('Choose one of your sites first');
    // A site the requester does not own is not accepted either.
    expect(textOf(await bot.execute('bulk.confirm', { jobId, siteId: DEMO.groups.research.id }))).toContain('Choose one of your sites first');
    await bot.execute('bulk.confirm', { jobId, siteId: DEMO.groups.marketing.id });
    await bot.feature.runner.whenFinished(jobId);
    const members = bot.env.fake.snapshot().groups.find((g) => g.id === DEMO.groups.marketing.id)?.members ?? [];
    expect(members).toHaveLength(2);
  });

  it('reads an attached CSV (Teams file download info) and refuses other file types clearly', async () => {
    const bot = bulkBot({ files: { 'https://files.example/partners.csv': 'Name,Email\nAna,ana@example.org\n' } });
    const file = (name: string, fileType: string, downloadUrl: string) => [{ contentType: TEAMS_FILE_DOWNLOAD, name, content: { downloadUrl, fileType, uniqueId: 'x' } }];
    const xlsx = await bot.say('', { attachments: file('partners.xlsx', 'xlsx', 'https://files.example/partners.xlsx') });
    expect(textOf(xlsx)).toContain('CSV UTF-8');
    expect(bot.downloads).toEqual([]);
    const csv = await bot.say('bulk invite to Marketing', { attachments: file('partners.csv', 'csv', 'https://files.example/partners.csv') });
    expect(textOf(csv)).toContain('partners.csv');
    expect(textOf(csv)).toContain('Marketing');
  });

  it('the "has finished" message shows an attached file name inert, never as a markdown link', async () => {
    const name = '[Approve here](https://evil.example) **now** <at>x</at> # x.csv';
    const bot = bulkBot({ files: { 'https://files.example/partners.csv': 'Name,Email\nAna,ana@example.org\n' } });
    const attachments = [{ contentType: TEAMS_FILE_DOWNLOAD, name, content: { downloadUrl: 'https://files.example/partners.csv', fileType: 'csv', uniqueId: 'x' } }];
    const jobId = jobIdOf((await bot.say('bulk invite to Marketing', { attachments }))[0]?.attachments?.[0]?.content as Record<string, unknown>);
    await bot.execute('bulk.confirm', { jobId });
    await bot.feature.runner.whenFinished(jobId);
    const finished = bot.notifier.notices.find((n) => n.kind === 'send' && n.text?.includes('has finished'))?.text ?? '';
    expect(finished).toContain('Approve here');
    expect(finished).not.toMatch(/\]\(|\*\*|<\/?at\b|https:\/\/evil/);
  });

  it('a bad file gets the reason and no job', async () => {
    const bot = bulkBot();
    const replies = await bot.say('Name;Email\nAna;ana@example.org');
    expect(textOf(replies)).toContain('semicolons');
    expect(await bot.env.jobs.listByRequester(DEMO.tenantId, DEMO.users.megan.id)).toEqual([]);
  });

  it('someone who owns no site is told so', async () => {
    const bot = bulkBot();
    expect(textOf(await bot.say('Name,Email\nAna,ana@example.org', { as: 'adele' }))).toContain("don't own any site");
  });
});

describe('results file', () => {
  async function finishedJob(conversation: 'personal' | 'groupChat' = 'personal', ttlMs?: number): Promise<{ bot: BulkBot; jobId: string }> {
    const bot = bulkBot({ conversation, ttlMs });
    const jobId = jobIdOf(await summaryOf(bot, 'bulk invite to Project Falcon\nName,Email\n"=HYPERLINK(""x"")",ana@example.org\nBo,not-an-address\n'));
    await bot.execute('bulk.confirm', { jobId });
    await bot.feature.runner.whenFinished(jobId);
    return { bot, jobId };
  }

  function urlIn(card: Record<string, unknown>): string {
    const m = /"url":"(https:[^"]+)"/.exec(JSON.stringify(card));
    if (!m?.[1]) throw new Error(`no link in ${textOf(card)}`);
    return m[1];
  }

  async function serve(bot: BulkBot): Promise<{ base: string; close: () => Promise<void> }> {
    const server = restify.createServer();
    bot.feature.registerRoutes(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    return { base: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
  }

  it('the requester gets a link that downloads a spreadsheet-safe CSV in the script format', async () => {
    const { bot, jobId } = await finishedJob();
    const card = await bot.execute('bulk.results', { jobId });
    const link = urlIn(card);
    const { base, close } = await serve(bot);
    try {
      const res = await fetch(link.replace('https://bot.contoso.example', base));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/csv');
      const csv = (await res.text()).replace(/^\uFEFF/, '');
      const lines = csv.trim().split('\r\n');
      // The script's columns, then the access end each guest got (none recorded without the guest lifecycle).
      expect(lines[0]).toBe('Name,Email,time,status,userId,redeemUrl,inviteId,error,Access ends on');
      expect(lines[1]).toMatch(/^"'=HYPERLINK\(""x""\)",ana@example.org,.*,PendingAcceptance,.*,https:\/\/.*,success,$/);
      expect(lines[2]).toMatch(/^Bo,not-an-address,.*email address/);
    } finally {
      await close();
    }
  });

  it('the card says plainly that the link is a short-lived secret that anyone holding it can use', async () => {
    const { bot, jobId } = await finishedJob();
    const text = textOf(await bot.execute('bulk.results', { jobId }));
    expect(text).toContain('anyone who has it can download the results file until it expires');
    expect(text).toContain("holds each guest's invitation link, so do not forward it");
    expect(text).not.toMatch(/only for you/);
    expect(loadConfig({}, os.tmpdir()).env.RESULTS_LINK_TTL_MINUTES).toBe(15);
    const { base, close } = await serve(bot);
    try {
      const res = await fetch(urlIn(await bot.execute('bulk.results', { jobId })).replace('https://bot.contoso.example', base));
      expect(res.status).toBe(200);
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cache-control')).toBe('no-store');
    } finally {
      await close();
    }
  });

  it('another user, an expired link and a forged link are refused', async () => {
    const { bot, jobId } = await finishedJob();
    expect(textOf(await bot.execute('bulk.results', { jobId }, { as: 'adele' }))).toContain('Only Megan Bowen or an approver');
    const { base, close } = await serve(bot);
    try {
      const forAdele = bot.signer.sign({ jobId, userId: DEMO.users.adele.id, tenantId: DEMO.tenantId, approver: false }, 60_000);
      expect((await fetch(`${base}/bulk/results?t=${forAdele}`)).status).toBe(403);
      // Adele is not an approver, so claiming to be one does not help either.
      const asApprover = bot.signer.sign({ jobId, userId: DEMO.users.adele.id, tenantId: DEMO.tenantId, approver: true }, 60_000);
      expect((await fetch(`${base}/bulk/results?t=${asApprover}`)).status).toBe(403);
      const expired = bot.signer.sign({ jobId, userId: DEMO.users.megan.id, tenantId: DEMO.tenantId, approver: false }, -1);
      const res = await fetch(`${base}/bulk/results?t=${expired}`);
      expect(res.status).toBe(410);
      expect(await res.text()).toContain('expired');
      const forged = new ResultsLinkSigner('another-secret-that-is-long-enough-0123456789').sign(
        { jobId, userId: DEMO.users.megan.id, tenantId: DEMO.tenantId, approver: false },
        60_000,
      );
      expect((await fetch(`${base}/bulk/results?t=${forged}`)).status).toBe(403);
      const [body] = forged.split('.');
      expect((await fetch(`${base}/bulk/results?t=${body}.tampered`)).status).toBe(403);
      const mine = bot.signer.sign({ jobId, userId: DEMO.users.megan.id, tenantId: DEMO.tenantId, approver: false }, 60_000);
      expect((await fetch(`${base}/bulk/results?t=${mine}`)).status).toBe(200);
      const alex = bot.signer.sign({ jobId, userId: DEMO.users.alex.id, tenantId: DEMO.tenantId, approver: true }, 60_000);
      expect((await fetch(`${base}/bulk/results?t=${alex}`)).status).toBe(200);
    } finally {
      await close();
    }
  });

  it('in a group chat the link is not shown on the shared card', async () => {
    const { bot, jobId } = await finishedJob('groupChat');
    const card = await bot.execute('bulk.results', { jobId });
    expect(JSON.stringify(card)).not.toContain('/bulk/results');
    expect(textOf(card)).toContain('personal chat');
  });
});

describe('the finished card tells how the guests get their invitation', () => {
  it('with SEND_INVITATION_EMAIL off it says Microsoft emailed nobody, where the links are, and re-sends with sendInvitationMessage on request', async () => {
    const bot = bulkBot();
    const jobId = jobIdOf(await summaryOf(bot));
    await bot.execute('bulk.confirm', { jobId });
    await bot.feature.runner.whenFinished(jobId);
    const finished = bot.notifier.notices.filter((n) => n.kind === 'update' || n.kind === 'send').at(-2)?.card ?? null;
    const text = textOf(finished);
    expect(text).toContain('Did the guests get an email?');
    expect(text).toContain('Microsoft did not email any of the 2 new guests');
    expect(text).toContain('invitation link is in the results file (column inviteRedeemUrl)');
    expect(JSON.stringify(finished)).toContain("Send Microsoft's invitation email to these guests");
    expect(bot.env.fake.snapshot().invitations.every((i) => !i.sendInvitationMessage)).toBe(true);
    // The chat message says it too.
    expect(bot.notifier.notices.find((n) => n.kind === 'send' && n.text?.includes('has finished'))?.text).toMatch(/Microsoft did not email 2 new guests/);

    // Someone else may not do it.
    const refused = await bot.execute('bulk.sendEmails', { jobId }, { as: 'adele' });
    expect(textOf(refused)).toContain('Only Megan Bowen or an approver can have Microsoft email these guests');
    expect(bot.env.fake.callCount('invite')).toBe(2);

    const response = await bot.execute('bulk.sendEmails', { jobId });
    expect(textOf(response)).toContain('Asking Microsoft to email the invitation to 2 guests');
    await bot.feature.whenEmailed(jobId);
    const emailed = bot.env.fake.snapshot().invitations.filter((i) => i.sendInvitationMessage);
    expect(emailed.map((i) => i.email).sort()).toEqual(['ana@example.org', 'bo@fabrikam.com']);
    // One guest each: the existing guests were invited again, not created twice.
    expect(new Set(emailed.map((i) => i.userId)).size).toBe(2);
    const after = textOf(bot.notifier.notices.at(-1)?.card);
    expect(after).toContain('Microsoft emailed the invitation to 2 guests.');
    expect(after).toContain('Microsoft emailed the invitation to all 2 new guests');
    expect(JSON.stringify(bot.notifier.notices.at(-1)?.card)).not.toContain('bulk.sendEmails');
    // A second click sends nothing more.
    expect(textOf(await bot.execute('bulk.sendEmails', { jobId }))).toContain('Every new guest of this job has been emailed');
    expect(bot.env.fake.snapshot().invitations.filter((i) => i.sendInvitationMessage)).toHaveLength(2);
  });

  it('rows the file asked Microsoft to email (Entra template sendEmail) are counted as emailed', async () => {
    const bot = bulkBot();
    const csv = [
      'version:v1.0',
      'Email address to invite [inviteeEmail] Required,Redirection url [inviteRedirectURL] Required,Send invitation message (true or false) [sendEmail],Customized invitation message [customizedMessageBody]',
      `ana@example.org,${DEMO.groups.projectFalcon.siteUrl},true,`,
      `bo@fabrikam.com,${DEMO.groups.projectFalcon.siteUrl},false,`,
    ].join('\n');
    const jobId = jobIdOf(await summaryOf(bot, `bulk invite to Project Falcon\n${csv}`));
    await bot.execute('bulk.confirm', { jobId });
    await bot.feature.runner.whenFinished(jobId);
    expect(await bot.env.jobs.invitationEmails(jobId, false)).toEqual({ invited: 2, emailed: 1, notEmailed: 1 });
    const text = textOf(bot.notifier.notices.filter((n) => n.kind === 'update').at(-1)?.card);
    expect(text).toContain('Microsoft did not email 1 new guest of 2');
    expect(text).toContain('1 were emailed because the file asked for it');
  });
});

describe('progress and site choice', () => {
  it.each([
    [{ finishedThisRun: 4, elapsedMs: 34 }, '4 in 1 second'],
    [{ finishedThisRun: 150, elapsedMs: 5_200 }, '150 in 5 seconds'],
    [{ finishedThisRun: 0, elapsedMs: 2_000 }, 'none finished yet'],
    [{ finishedThisRun: 1_800, elapsedMs: 60_000 }, '1,800 per minute'],
    [{ finishedThisRun: 3_000, elapsedMs: 120_000 }, '1,500 per minute'],
  ])('the pace is what happened, never a burst extrapolated to a minute (%o → %s)', (progress, expected) => {
    expect(paceText(progress)).toBe(expected);
  });

  it('the progress card of a 4-row job shows the measured pace, not thousands per minute', async () => {
    const bot = bulkBot();
    const jobId = jobIdOf(await summaryOf(bot));
    await bot.execute('bulk.confirm', { jobId });
    await bot.feature.runner.whenFinished(jobId);
    const progressCards = bot.notifier.notices.map((n) => textOf(n.card)).filter((t) => t.includes('Bulk invitation in progress'));
    for (const t of progressCards) {
      expect(t).toMatch(/Pace so far: \nBolder\nTextRun\n(none finished yet|\d+ in \d+ seconds?)\n/);
      expect(t).not.toMatch(/per minute/);
    }
  });

  it('the site picker shows a placeholder, or the only site already chosen', async () => {
    const bot = bulkBot();
    const card = await summaryOf(bot, 'Name,Email\nAna,ana@example.org\n');
    const picker = JSON.stringify(card).match(/\{[^{}]*"type":"Input\.ChoiceSet"[^{}]*/)?.[0] ?? '';
    expect(picker).toContain('"placeholder":"Choose one of your sites"');
    expect(picker).toContain('"value":""');
  });
});
