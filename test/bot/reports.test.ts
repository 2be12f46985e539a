/**
 * Reports and exports through the real app (restify, CloudAdapter, bot, demo directory) on a
 * seeded store: Alex (the demo's approver) gets the report and both exports, downloads them over
 * HTTP; Megan (a site owner) and Jordan (a guest) get refusals and no figures; bad periods get a
 * clear message; a group chat gets nothing.
 */
import type { Activity } from 'botbuilder';
import { parse } from 'csv-parse/sync';
import { openMemoryStore } from '../../src/adapters/memory/store';
import { DEMO } from '../../src/adapters/demo/demoTenant';
import { DEMO_TENANT_ID, messageFrom, replyTexts, startInProcessApp, type RunningApp } from '../support/e2e/inProcessApp';
import { NOW, seedReportStore } from '../support/reports';
import { manualClock } from '../support/store';

const ALEX = { id: 'user-alex', name: 'Alex Wilber', aadObjectId: DEMO.users.alex.id };
const MEGAN = { id: 'user-megan', name: 'Megan Bowen', aadObjectId: DEMO.users.megan.id };
const JORDAN = { id: 'user-jordan', name: 'Jordan Lee', aadObjectId: DEMO.users.jordan.id };

let running: RunningApp;
let store: ReturnType<typeof openMemoryStore>;

beforeAll(async () => {
  const clock = manualClock(NOW);
  store = openMemoryStore({ clock });
  await seedReportStore(store, clock, DEMO_TENANT_ID);
  const who = { actorId: DEMO.users.megan.id, actorName: 'Megan Bowen' };
  clock.set('2026-10-15T10:00:00.000Z');
  await store.audit.append({ ...who, action: 'invitation.requested', subjectType: 'invitation', subjectId: 'october' });
  clock.set('2026-11-10T10:00:00.000Z');
  await store.audit.append({ ...who, action: 'invitation.completed', subjectType: 'invitation', subjectId: 'november' });
  clock.set(NOW);
  running = await startInProcessApp({ overrides: { store, clock } });
}, 60_000);

afterAll(async () => {
  await running?.close();
});

async function say(text: string, from: { id: string; name: string; aadObjectId: string } = ALEX, conversationType = 'personal'): Promise<{ texts: string[]; activities: Array<Partial<Activity>> }> {
  const res = await running.post(
    messageFrom(text, { from, conversation: { id: `conv-${from.id}-${conversationType}`, tenantId: DEMO_TENANT_ID, isGroup: conversationType !== 'personal', name: '', conversationType } as never }),
  );
  expect(res.status).toBe(200);
  const body = (await res.json()) as { activities?: Array<Partial<Activity>> };
  return { texts: replyTexts(body), activities: body.activities ?? [] };
}

function linkIn(texts: string[]): string {
  const link = /http:\/\/\S+\/exports\/file\?t=[^\s"]+/.exec(texts.join('\n'))?.[0];
  if (!link) throw new Error(`no export link in: ${texts.join(' | ')}`);
  return link;
}

async function download(link: string): Promise<{ status: number; disposition: string | null; rows: Array<Record<string, string>>; text: string }> {
  // PUBLIC_BASE_URL is unset here: the link names localhost on the configured port (0); the server listens on running.baseUrl.
  const url = new URL(link);
  const res = await fetch(`${running.baseUrl}${url.pathname}${url.search}`);
  const text = await res.text();
  return {
    status: res.status,
    disposition: res.headers.get('content-disposition'),
    text,
    rows: res.status === 200 ? (parse(text, { bom: true, columns: true }) as Array<Record<string, string>>) : [],
  };
}

describe('guests report in chat', () => {
  it('gives the approver the report card with the seeded figures', async () => {
    const { texts, activities } = await say('guests report');
    const card = JSON.stringify(activities[0]?.attachments?.[0]?.content);
    expect(texts).toContain('Guests report');
    expect(texts.join('\n')).toContain('4 guests with access to 2 sites (5 guest accesses)');
    expect(card).toContain('"type":"Chart.HorizontalBar"');
    expect(texts.join('\n')).toContain('3 requests waiting (2 invitations, 1 redemption reset)');
    expect(texts).toContain('Not redeemed after more than 7 days: 2 guests');
    expect(texts).toContain('Lee Gu');
  });

  it.each([
    ['a site owner', MEGAN],
    ['a guest', JORDAN],
  ])('refuses %s, with no figure', async (_who, from) => {
    for (const command of ['guests report', 'export guests', 'export audit last 30 days']) {
      const { texts, activities } = await say(command, from);
      expect(texts).toEqual([expect.stringMatching(/members of the guest approver group/)]);
      expect(activities.some((a) => (a.attachments ?? []).length > 0)).toBe(false);
    }
  });

  it('answers nothing of it in a group chat', async () => {
    const { texts } = await say('guests report', ALEX, 'groupChat');
    expect(texts).toEqual([expect.stringMatching(/only give them in a personal chat/)]);
  });
});

describe('exports', () => {
  it('"export guests" hands the approver a link that downloads every guest as CSV, without redeem links', async () => {
    const { texts } = await say('export guests');
    expect(texts).toContain('Your export is ready');
    const file = await download(linkIn(texts));
    expect(file.status).toBe(200);
    expect(file.disposition).toBe('attachment; filename="guests-2026-12-01.csv"');
    expect(file.rows).toHaveLength(7);
    expect(file.text).not.toMatch(/login\.microsoftonline\.com/);
    expect(file.rows.map((r) => r.Guest).sort()).toEqual(['Ivan Petrov', 'Jane Doe', 'Jane Doe', 'Lee Gu', 'Nora Quinn', 'Omar Haddad', 'Priya Shah']);
  });

  it('"export audit from 2026-11-01 to 2026-11-30" downloads that period of the audit log', async () => {
    const { texts } = await say('export audit from 2026-11-01 to 2026-11-30');
    const file = await download(linkIn(texts));
    expect(file.status).toBe(200);
    expect(file.disposition).toBe('attachment; filename="audit-2026-11-01-to-2026-11-30.csv"');
    expect(file.rows).toEqual([
      { When: '2026-11-10T10:00:00.000Z', Who: 'Megan Bowen', 'Who id': DEMO.users.megan.id, Action: 'invitation.completed', Subject: 'invitation november', Outcome: 'done', Details: '' },
    ]);
  });

  it('"export audit last 30 days" lists the approver\'s own earlier requests', async () => {
    const { texts } = await say('export audit last 30 days');
    const file = await download(linkIn(texts));
    expect(file.rows.map((r) => r.Action)).toEqual(expect.arrayContaining(['export.linkIssued', 'report.refused']));
    expect(file.rows.find((r) => r.Action === 'report.refused')).toMatchObject({ 'Who id': DEMO.users.megan.id, Outcome: 'refused' });
  });

  it.each([
    ['export audit from 2026-11-31 to 2026-12-01', /start is not a date/],
    ['export audit from 2026-11-30 to 2026-11-01', /ends \(2026-11-01\) before it starts/],
    ['export audit from 2024-01-01 to 2026-11-30', /at most 366 days/],
  ])('%s gets a clear message and no link', async (command, message) => {
    const { texts, activities } = await say(command);
    expect(texts).toEqual([expect.stringMatching(message)]);
    expect(activities.some((a) => (a.attachments ?? []).length > 0)).toBe(false);
  });

  it('a forged or tampered link is refused, and a bulk results link opens no export', async () => {
    const { texts } = await say('export guests');
    const link = linkIn(texts);
    expect((await download(`${link.slice(0, -3)}abc`)).status).toBe(403);
    expect((await download(link.replace('/exports/file', '/bulk/results'))).status).toBe(403);
  });
});
