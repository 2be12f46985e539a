/** A decision or an outcome and its audit row are written together, or not at all. */
import { APPROVAL_TEST_MIGRATIONS, actorOf, approvalTestbed } from './testbed';
import { tempStore } from '../../support/store';

describe('decision, outcome and audit in one transaction', () => {
  it('when the audit row cannot be written, the decision is not recorded either', async () => {
    const store = tempStore(APPROVAL_TEST_MIGRATIONS);
    const tb = approvalTestbed({ store });
    const request = await tb.requestInvitation();
    // The repository writes the audit row inside the decision's transaction (appendSync).
    const append = store.audit.appendSync.bind(store.audit);
    store.audit.appendSync = (event) => {
      if (event.action === 'approval.approved') throw new Error('disk full');
      return append(event);
    };
    await expect(tb.service.decide(actorOf('alex'), request.id, 'approve', null, request.version)).rejects.toThrow('disk full');
    expect((await tb.requests.get(request.id))).toMatchObject({ state: 'pending', version: request.version });
    expect(tb.directory.callCount('invite')).toBe(0);
  });

  it('an approval carried out has its outcome and its audit row, both', async () => {
    const tb = approvalTestbed({ store: tempStore(APPROVAL_TEST_MIGRATIONS) });
    const request = await tb.requestInvitation();
    await tb.service.decide(actorOf('alex'), request.id, 'approve', null, request.version);
    await tb.service.whenIdle();
    const actions = (await tb.store.audit.list({ subjectId: request.id })).map((e) => e.action);
    expect((await tb.requests.get(request.id))?.outcome?.status).toBe('succeeded');
    expect(actions).toEqual(expect.arrayContaining(['approval.approved', 'approval.carriedOut']));
  });
});
