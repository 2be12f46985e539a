/**
 * A person of the tenant whom the directory does not know (Sam Outsider in the demo) gets one
 * clear answer for every feature they try, messages and card clicks alike, through the real app.
 */
import { messageFrom, replyTexts, startInProcessApp, type RunningApp } from '../../support/e2e/inProcessApp';

const SAM = { id: '29:sam-outsider', name: 'Sam Outsider', aadObjectId: '0b5e1c2d-0000-4000-8000-00000000dead' };
const ANSWER = "I can't find your account in Contoso (demo)'s directory";

describe('a person the directory does not know', () => {
  let running: RunningApp;
  beforeAll(async () => {
    running = await startInProcessApp();
  });
  afterAll(async () => {
    await running.close();
  });

  it.each([
    'invite Jane Doe <jane@fabrikam.com> to Project Falcon',
    'invite a guest',
    'bulk invite',
    'Name,Email\nJane Doe,jane@fabrikam.com',
    'pending',
    'status of jane@fabrikam.com',
    'my invitations',
    'bulk results',
    'why did I get a code?',
    'I lost access',
    'how do I sync?',
  ])('"%s" gets the clear answer and what to do', async (text) => {
    const res = await running.post(messageFrom(text, { from: SAM }));
    expect(res.status).toBe(200);
    const replies = replyTexts(await res.json());
    expect(replies).toHaveLength(1);
    expect(replies[0]).toContain(ANSWER);
    expect(replies[0]).toMatch(/ask your IT admin/i);
  });

  it.each([
    ['approval.refresh', { requestId: 'apr-1' }],
    ['invite.retry', { recordId: 'inv-1' }],
    ['bulk.results', { jobId: 'job-1' }],
  ])('a click on %s gets the same answer as a full card', async (verb, data) => {
    const res = await running.post(
      messageFrom('', { from: SAM, deliveryMode: undefined, type: 'invoke', name: 'adaptiveCard/action', value: { action: { type: 'Action.Execute', verb, data } } }),
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { statusCode: number; type: string; value: unknown };
    expect(body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
    expect(JSON.stringify(body.value)).toContain(ANSWER);
  });

  it('people the directory knows are not affected', async () => {
    const res = await running.post(messageFrom('my invitations'));
    expect(replyTexts(await res.json()).join(' ')).not.toContain("can't find your account");
  });
});
