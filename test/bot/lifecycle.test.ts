/**
 * The guest lifecycle through the bot, on the demo tenant's guests at each stage (Isabel never
 * redeemed, Nora's access ends tomorrow, Omar's ended yesterday, Priya's sponsor Diego has left),
 * with a manual clock: the scheduler's first pass at start catches up, the cards' buttons act once
 * and answer in place, and rights are asked at every click.
 */
import { DAY_MS } from '../../src/domain/lifecycle';
import { DEMO, DEMO_LIFECYCLE, actionData, lifecycleBot, linkOn, replyCard, textOf, verbsOn, type LifecycleBot } from '../support/lifecycleBot';

jest.setTimeout(30_000);

const cardWith = (bot: LifecycleBot, text: string): Record<string, unknown> => {
  const card = bot.cardsTo('megan').find((c) => textOf(c).includes(text));
  if (!card) throw new Error(`Megan got no card saying "${text}": ${bot.cardsTo('megan').map((c) => textOf(c).split('\n')[0]).join(' | ')}`);
  return card;
};

describe('the scheduler started with the app', () => {
  it('catches up at start: Megan gets the unredeemed reminder, the renewal reminders and the notice of the ended access, once each', async () => {
    const bot = await lifecycleBot();
    await bot.chatWith('megan');
    await bot.start();
    const texts = bot.cardsTo('megan').map(textOf);
    expect(texts.filter((t) => t.includes('Isabel Ruiz has not accepted the invitation to Project Falcon'))).toHaveLength(1);
    expect(texts.filter((t) => t.includes("Nora Quinn's access to Project Falcon ends soon"))).toHaveLength(1);
    expect(texts.filter((t) => t.includes("Omar Haddad's access to Project Falcon has ended"))).toHaveLength(1);
    // Priya's sponsor has left: the owner (Megan) gets her reminder, and is told why.
    const priya = texts.find((t) => t.includes("Priya Shah's access to Project Falcon ends soon"));
    expect(priya).toContain('You get this as an owner of Project Falcon');
    expect((await bot.access('endedYesterday')).state).toBe('ended');
    expect(await bot.directory.isMember(DEMO.groups.projectFalcon.id, DEMO_LIFECYCLE.guests.endedYesterday.id)).toBe(false);
    // A second pass (the next interval) sends nothing again.
    const before = bot.cardsTo('megan').length;
    await bot.runDue();
    expect(bot.cardsTo('megan')).toHaveLength(before);
    await bot.stop();
  });

  it('keeps the notices for someone with no chat yet and delivers them once, on their first message', async () => {
    const bot = await lifecycleBot();
    await bot.start();
    expect(bot.cardsTo('megan')).toHaveLength(0);
    expect((await bot.access('unredeemed')).unredeemedRemindedAt).not.toBeNull();
    await bot.say('hello', 'megan');
    const texts = bot.cardsTo('megan').map(textOf);
    expect(texts.filter((t) => t.includes('Isabel Ruiz has not accepted the invitation'))).toHaveLength(1);
    expect(texts.some((t) => t.includes("Nora Quinn's access to Project Falcon ends soon"))).toBe(true);
    await bot.say('my guests', 'megan');
    expect(bot.cardsTo('megan')).toHaveLength(texts.length);
    await bot.stop();
  });
});

describe('the unredeemed reminder', () => {
  async function reminded(): Promise<{ bot: LifecycleBot; card: Record<string, unknown> }> {
    const bot = await lifecycleBot();
    await bot.chatWith('megan');
    await bot.start();
    return { bot, card: cardWith(bot, 'Isabel Ruiz has not accepted') };
  }

  it('offers Resend (with the choice of Microsoft email), Withdraw and Keep waiting', async () => {
    const { bot, card } = await reminded();
    expect(verbsOn(card)).toEqual(['lifecycle.resend', 'lifecycle.withdraw', 'lifecycle.keepWaiting']);
    expect(textOf(card)).toContain("Also have Microsoft email the new invitation");
    await bot.stop();
  });

  it('Resend shows a new link in place; a replayed click shows the same link and invites once', async () => {
    const { bot, card } = await reminded();
    const invitesBefore = bot.directory.callCount('invite');
    const first = (await bot.click('lifecycle.resend', { ...actionData(card, 'lifecycle.resend'), sendEmail: 'false' }, 'megan')).value;
    expect(textOf(first)).toContain('A new invitation for Isabel Ruiz is ready');
    const link = linkOn(first);
    expect(link).toMatch(/^https:\/\//);
    expect(verbsOn(first)).toEqual(['lifecycle.list']);
    const replay = (await bot.click('lifecycle.resend', actionData(card, 'lifecycle.resend'), 'megan')).value;
    expect(textOf(replay)).toContain('A new invitation was already sent to Isabel Ruiz');
    expect(linkOn(replay)).toBe(link);
    expect(bot.directory.callCount('invite')).toBe(invitesBefore + 1);
    expect((await bot.access('unredeemed')).redeemUrl).toBe(link);
    await bot.stop();
  });

  it('Withdraw takes Isabel out of Project Falcon once; a second click says it is done already', async () => {
    const { bot, card } = await reminded();
    const done = (await bot.click('lifecycle.withdraw', actionData(card, 'lifecycle.withdraw'), 'megan')).value;
    expect(textOf(done)).toContain("Isabel Ruiz's invitation to Project Falcon was withdrawn");
    expect((await bot.access('unredeemed')).state).toBe('withdrawn');
    expect(await bot.directory.isMember(DEMO.groups.projectFalcon.id, DEMO_LIFECYCLE.guests.unredeemed.id)).toBe(false);
    const again = (await bot.click('lifecycle.withdraw', actionData(card, 'lifecycle.withdraw'), 'megan')).value;
    expect(textOf(again)).toContain('has already ended');
    await bot.stop();
  });

  it('Keep waiting: no reminder until the next period, then one more', async () => {
    const { bot, card } = await reminded();
    const kept = (await bot.click('lifecycle.keepWaiting', actionData(card, 'lifecycle.keepWaiting'), 'megan')).value;
    expect(textOf(kept)).toContain('Waiting for Isabel Ruiz to accept');
    expect(textOf(kept)).toContain('You will be reminded again on 8 Dec 2026');
    const count = (): number => bot.cardsTo('megan').filter((c) => textOf(c).includes('Isabel Ruiz has not accepted')).length;
    bot.clock.advance(3 * DAY_MS);
    await bot.runDue();
    expect(count()).toBe(1);
    bot.clock.advance(4 * DAY_MS + 60_000);
    await bot.runDue();
    expect(count()).toBe(2);
    await bot.stop();
  });

  it('a click by someone who is neither sponsor nor owner is refused and changes nothing', async () => {
    const { bot, card } = await reminded();
    const refused = (await bot.click('lifecycle.withdraw', actionData(card, 'lifecycle.withdraw'), 'adele')).value;
    expect(textOf(refused)).toContain('Nothing was changed');
    expect(textOf(refused)).toContain('Only the sponsor of Isabel Ruiz or an owner of Project Falcon can do that.');
    expect((await bot.access('unredeemed')).state).toBe('invited');
    const resend = (await bot.click('lifecycle.resend', actionData(card, 'lifecycle.resend'), 'stranger')).value;
    expect(textOf(resend)).toContain('Nothing was changed');
    expect((await bot.access('unredeemed')).redeemUrl).toBeNull();
    await bot.stop();
  });

  it('a malformed click changes nothing and says so', async () => {
    const { bot } = await reminded();
    const body = (await bot.click('lifecycle.withdraw', { accessId: '' }, 'megan')).value;
    expect(textOf(body)).toContain('That button does not say which guest it is for.');
    expect((await bot.access('unredeemed')).state).toBe('invited');
    await bot.stop();
  });
});

describe('the renewal reminder', () => {
  it('Renew extends Nora by another period once; Let it end on the same card then says it was renewed', async () => {
    const bot = await lifecycleBot();
    await bot.chatWith('megan');
    await bot.start();
    const card = cardWith(bot, "Nora Quinn's access to Project Falcon ends soon");
    expect(verbsOn(card)).toEqual(['lifecycle.renew', 'lifecycle.letEnd']);
    const before = (await bot.access('endingTomorrow')).endsAt as string;
    const renewed = (await bot.click('lifecycle.renew', actionData(card, 'lifecycle.renew'), 'megan')).value;
    expect(textOf(renewed)).toContain("Nora Quinn's access to Project Falcon was renewed");
    const after = (await bot.access('endingTomorrow')).endsAt as string;
    expect(Date.parse(after) - Date.parse(before)).toBe(180 * DAY_MS);
    const replay = (await bot.click('lifecycle.renew', actionData(card, 'lifecycle.renew'), 'megan')).value;
    expect(textOf(replay)).toContain('was already renewed');
    expect((await bot.access('endingTomorrow')).endsAt).toBe(after);
    const late = (await bot.click('lifecycle.letEnd', actionData(card, 'lifecycle.letEnd'), 'megan')).value;
    expect(textOf(late)).toContain('renewed meanwhile');
    // The end that was due tomorrow does not happen.
    bot.clock.advance(2 * DAY_MS);
    await bot.runDue();
    expect((await bot.access('endingTomorrow')).state).toBe('accepted');
    await bot.stop();
  });

  it('Let it end: no more reminders, and the access ends on its date with the sponsor told', async () => {
    const bot = await lifecycleBot();
    await bot.chatWith('megan');
    await bot.start();
    const card = cardWith(bot, "Nora Quinn's access to Project Falcon ends soon");
    const done = (await bot.click('lifecycle.letEnd', actionData(card, 'lifecycle.letEnd'), 'megan')).value;
    expect(textOf(done)).toContain("Nora Quinn's access to Project Falcon will end");
    bot.clock.advance(DAY_MS + 60_000);
    await bot.runDue();
    expect((await bot.access('endingTomorrow')).state).toBe('ended');
    expect(bot.cardsTo('megan').filter((c) => textOf(c).includes("Nora Quinn's access to Project Falcon has ended"))).toHaveLength(1);
    await bot.stop();
  });

  it('through approval (APPROVAL_POLICY=always): Alex gets the request, approves once, Megan is told; a second Approve changes nothing', async () => {
    const bot = await lifecycleBot({ env: { APPROVAL_POLICY: 'always' } });
    await bot.chatWith('megan');
    await bot.chatWith('alex');
    await bot.start();
    const card = cardWith(bot, "Nora Quinn's access to Project Falcon ends soon");
    expect(textOf(card)).toContain('Renewing here goes to an approver first');
    expect(textOf(card)).toContain('Ask to renew');
    const before = (await bot.access('endingTomorrow')).endsAt;
    const asked = (await bot.click('lifecycle.renew', actionData(card, 'lifecycle.renew'), 'megan')).value;
    expect(textOf(asked)).toContain("Renewal of Nora Quinn's access sent for approval");
    expect((await bot.access('endingTomorrow')).endsAt).toBe(before);
    // Asking twice sends one request.
    await bot.click('lifecycle.renew', actionData(card, 'lifecycle.renew'), 'megan');
    const requests = bot.cardsTo('alex').filter((c) => textOf(c).includes("Renew Nora Quinn's access to Project Falcon?"));
    expect(requests).toHaveLength(1);
    const request = requests[0] as Record<string, unknown>;
    expect(verbsOn(request)).toEqual(['lifecycle.approveRenewal', 'lifecycle.rejectRenewal']);
    // Megan is no approver: her Approve is refused.
    const notHers = (await bot.click('lifecycle.approveRenewal', actionData(request, 'lifecycle.approveRenewal'), 'megan')).value;
    expect(textOf(notHers)).toContain('Only members of the guest approver group can decide');
    expect((await bot.access('endingTomorrow')).endsAt).toBe(before);
    const approved = (await bot.click('lifecycle.approveRenewal', actionData(request, 'lifecycle.approveRenewal'), 'alex')).value;
    expect(textOf(approved)).toContain('Approved by Alex Wilber');
    expect(verbsOn(approved)).toEqual([]);
    const after = (await bot.access('endingTomorrow')).endsAt as string;
    expect(Date.parse(after) - Date.parse(before as string)).toBe(180 * DAY_MS);
    expect(bot.cardsTo('megan').some((c) => textOf(c).includes("Nora Quinn's renewal was approved"))).toBe(true);
    const again = (await bot.click('lifecycle.approveRenewal', actionData(request, 'lifecycle.approveRenewal'), 'alex')).value;
    expect(textOf(again)).toContain('already decided');
    expect((await bot.access('endingTomorrow')).endsAt).toBe(after);
    await bot.stop();
  });
});

describe('in chat', () => {
  async function started(): Promise<LifecycleBot> {
    const bot = await lifecycleBot();
    await bot.chatWith('megan');
    await bot.start();
    return bot;
  }

  it('"my guests" lists the guests Megan sponsors with their state, dates and the buttons that fit', async () => {
    const bot = await started();
    const card = replyCard(await bot.say('my guests', 'megan'));
    const text = textOf(card);
    expect(text).toContain('Your guests');
    expect(text).toContain('Isabel Ruiz');
    expect(text).toContain('Invited, not accepted yet');
    expect(text).toContain('Nora Quinn');
    expect(text).toContain('Ending soon');
    expect(text).toContain('Signs in with');
    expect(text).not.toContain('Omar Haddad');
    expect(verbsOn(card)).toEqual(expect.arrayContaining(['lifecycle.resend', 'lifecycle.withdraw', 'lifecycle.renew', 'lifecycle.remove']));
    const ended = textOf(replyCard(await bot.say('my guests including ended', 'megan')));
    expect(ended).toContain('Omar Haddad');
    await bot.stop();
  });

  it('"guests of Project Falcon" for its owner; refused for a member; an unknown site is named', async () => {
    const bot = await started();
    const owner = textOf(replyCard(await bot.say('guests of Project Falcon', 'megan')));
    expect(owner).toContain('Guests of Project Falcon');
    expect(owner).toContain('Priya Shah');
    const member = textOf(replyCard(await bot.say('guests of project falcon', 'adele')));
    expect(member).toContain('Only an owner of Project Falcon can see its guests.');
    expect(member).not.toContain('Priya Shah');
    const unknown = textOf(replyCard(await bot.say('guests of Atlantis', 'megan')));
    expect(unknown).toContain('I could not find a site called "Atlantis"');
    await bot.stop();
  });

  it('Remove from the list ends the access now, once', async () => {
    const bot = await started();
    const list = replyCard(await bot.say('guests of Project Falcon', 'megan'));
    const priyaRemove = JSON.stringify(list).includes('lifecycle.remove');
    expect(priyaRemove).toBe(true);
    const priya = await bot.access('sponsorGone');
    const done = (await bot.click('lifecycle.remove', { accessId: priya.id, from: 'list' }, 'megan')).value;
    expect(textOf(done)).toContain('Priya Shah was removed from Project Falcon');
    const again = (await bot.click('lifecycle.remove', { accessId: priya.id, from: 'list' }, 'megan')).value;
    expect(textOf(again)).toContain('has already ended');
    expect((await bot.access('sponsorGone')).state).toBe('removed');
    await bot.stop();
  });

  it('hand-over: "make Adele the sponsor of …" resolves Adele in the directory and tells her; bad input gets a clear answer', async () => {
    const bot = await started();
    await bot.chatWith('adele');
    const done = textOf(replyCard(await bot.say('make Adele the sponsor of isabel.ruiz@fabrikam.com', 'megan')));
    expect(done).toContain('Adele Vance is now the sponsor of Isabel Ruiz');
    expect((await bot.access('unredeemed')).sponsor).toEqual({ id: DEMO.users.adele.id, name: 'Adele Vance' });
    expect(bot.cardsTo('adele').some((c) => textOf(c).includes('You are now the sponsor of Isabel Ruiz'))).toBe(true);
    const byAddress = textOf(replyCard(await bot.say('make alex.wilber@contoso.com the sponsor of nora.quinn@tailspintoys.com', 'megan')));
    expect(byAddress).toContain('Alex Wilber is now the sponsor of Nora Quinn');
    expect(textOf(replyCard(await bot.say('make Zed the sponsor of nora.quinn@tailspintoys.com', 'megan')))).toContain('I could not find "Zed"');
    expect(textOf(replyCard(await bot.say('make Adele the sponsor of nora.quinn@', 'megan')))).toContain('is not an email address');
    expect(textOf(replyCard(await bot.say('make Adele the sponsor of nobody@fabrikam.com', 'megan')))).toContain('I know of no guest nobody@fabrikam.com');
    // Adele sponsors Isabel now, but owns nothing: she cannot hand Nora over.
    expect(textOf(replyCard(await bot.say('make Adele the sponsor of nora.quinn@tailspintoys.com', 'adele')))).toContain('I know of no guest');
    await bot.stop();
  });

  it('"what is scheduled for …" shows the due work of a guest the asker may see, and nothing for others', async () => {
    const bot = await started();
    const text = textOf(replyCard(await bot.say('what is scheduled for nora.quinn@tailspintoys.com', 'megan')));
    expect(text).toContain('What is scheduled for nora.quinn@tailspintoys.com');
    expect(text).toContain('End of access: remove from the site');
    const other = textOf(replyCard(await bot.say('what is scheduled for nora.quinn@tailspintoys.com', 'adele')));
    expect(other).toContain('Nothing you sponsor or own');
    expect(textOf(replyCard(await bot.say('what is scheduled for nora', 'megan')))).toContain('is not an email address');
    await bot.stop();
  });
});
