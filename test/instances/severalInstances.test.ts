/**
 * Two bot instances behind a round-robin proxy, sharing one store, driven as Teams drives them.
 */
import { startCluster, type Cluster } from '../support/instances/cluster';
import { teamsUser } from '../support/instances/teamsClient';

describe('two instances sharing one store', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ store: { kind: 'sqlite' } });
  }, 180_000);

  afterAll(async () => {
    await cluster?.close();
  }, 60_000);

  it('a guided invitation whose turns alternate between the instances completes, with the result and sync cards', async () => {
    const megan = teamsUser('megan', cluster);
    const start = cluster.proxy.log.length;
    const step = async (send: () => Promise<{ status: number }>, expect: string): Promise<void> => {
      const before = megan.count(expect);
      const answer = await send();
      if (answer.status >= 300) throw new Error(`HTTP ${answer.status}`);
      await megan.waitForText(expect, { times: before + 1 });
    };
    await step(() => megan.say('invite a guest'), "What is the guest's email address?");
    await step(() => megan.say('sam.taylor@fabrikam.com'), 'What name should they have in your organisation');
    await step(() => megan.say('Sam Taylor'), 'Which site should they join?');
    await step(() => megan.press('Project Falcon'), 'Sam Taylor will be added to Project Falcon');
    await step(() => megan.press('Confirm'), 'Sam Taylor is invited to Project Falcon');
    await megan.waitForText('Sam Taylor signs in with a work or school account');
    const served = cluster.proxy.log.slice(start).map((r) => r.upstream);
    expect(served).toEqual([0, 1, 0, 1, 0].map((i) => (i + (served[0] ?? 0)) % 2));
    expect(cluster.tenant.state.invitations.filter((i) => i.email === 'sam.taylor@fabrikam.com')).toHaveLength(1);
  }, 60_000);
});
