/**
 * Issue "Owners and admins see their guests", reports and exports, in the Agents Playground:
 * Alex Wilber (the demo's approver) asks for the guests report on the demo tenant (its
 * lifecycle-stage guests are seeded at start in local mode), then for both exports, and opens
 * each link in the same browser as he would: a CSV download.
 */
import { parse } from 'csv-parse/sync';
import { startE2eSession, type E2eSession } from '../support/e2e/session';
import { cardText, sessionClient, type ChatClient } from '../support/e2e/flows';

jest.setTimeout(120_000);

describe('guests report and exports, in the Playground (Alex Wilber, approver)', () => {
  let session: E2eSession;
  let alex: ChatClient;

  beforeAll(async () => {
    session = await startE2eSession({ user: 'Alex Wilber' });
    alex = sessionClient(session, 'Alex Wilber');
    await alex.waitForText('Here is what you can say');
  });
  afterAll(async () => {
    await session?.close();
  });

  async function download(marker: string): Promise<{ disposition: string; rows: Array<Record<string, string>>; text: string }> {
    await alex.waitForText(marker);
    const card = await cardText(alex, marker);
    const link = /https?:\/\/\S+\/exports\/file\?t=[^\s"]+/.exec(card)?.[0];
    if (!link) throw new Error(`no export link in the card: ${card.slice(0, 500)}`);
    const response = await alex.page.context().request.get(link);
    expect(response.status()).toBe(200);
    const text = await response.text();
    return { disposition: response.headers()['content-disposition'] ?? '', text, rows: parse(text, { bom: true, columns: true }) as Array<Record<string, string>> };
  }

  it('shows the report with the demo guests waiting to redeem', async () => {
    await alex.sendMessage('guests report');
    // The welcome card's help lists "guests report" too (text matching ignores case): wait for a
    // line only the report has.
    await alex.waitForText('Pending approvals');
    const report = await cardText(alex, 'Pending approvals');
    expect(report).toContain('Guests report');
    expect(report).toContain('Pending approvals');
    expect(report).toMatch(/Not redeemed after more than 7 days: \d+ guests?/);
    expect(report).toContain('Isabel Ruiz');
    expect(report).toContain('By sponsor');
  });

  it('"export guests" gives a link that downloads every guest as CSV, without invitation links', async () => {
    await alex.sendMessage('export guests');
    const file = await download('/exports/file?t=');
    expect(file.disposition).toMatch(/attachment; filename="guests-\d{4}-\d{2}-\d{2}\.csv"/);
    expect(file.rows.map((r) => r.Guest)).toEqual(expect.arrayContaining(['Isabel Ruiz', 'Nora Quinn', 'Priya Shah']));
    expect(file.text).not.toMatch(/redeem\?|login\.microsoftonline\.com/);
  });

  it('"export audit last 30 days" gives a link to the audit log of the period', async () => {
    await alex.sendMessage('export audit last 30 days');
    await alex.waitForText('The audit log from');
    const file = await download('The audit log from');
    expect(file.disposition).toMatch(/attachment; filename="audit-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}\.csv"/);
    expect(file.text.split(/\r?\n/)[0]).toBe('\ufeffWhen,Who,Who id,Action,Subject,Outcome,Details');
    // His own earlier export is on the record.
    expect(file.rows.map((r) => r.Action)).toContain('export.linkIssued');
  });
});
