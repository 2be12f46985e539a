/**
 * Two bot instances behind a round-robin proxy, sharing one store, driven as Teams drives them.
 */
import { startCluster, type Cluster } from '../support/instances/cluster';
import { cardActions, inputIdsFor, teamsUser, type PostResult, type TeamsUser } from '../support/instances/teamsClient';
import { activityText } from '../support/instances/connector';
import { invitationsPerAddress } from '../support/instances/cluster';

const RACES = Number(process.env.INSTANCES_APPROVAL_RACES ?? 100);

/** Runs `work` over `items`, `width` at a time. */
async function inParallel<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

const ok = (answer: PostResult): PostResult => {
  if (answer.status >= 300) throw new Error(`HTTP ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer;
};

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

  it(`${RACES} approval races spread over both instances: exactly one outcome each, one invitation`, async () => {
    const alex = teamsUser('alex', cluster);
    ok(await alex.say('help'));
    const guest = (i: number): string => `race.partner${i}@fabrikam.com`;
    // Adele (a member, owns nothing) asks for each guest: ten chats at once.
    const chats: TeamsUser[] = Array.from({ length: 10 }, () => teamsUser('adele', cluster));
    const requesterOf = new Map<number, TeamsUser>();
    await inParallel(
      Array.from({ length: RACES }, (_, i) => i),
      10,
      async (i) => {
        const adele = chats[i % chats.length] as TeamsUser;
        requesterOf.set(i, adele);
        ok(await adele.say(`invite Race Partner ${i} <${guest(i)}> to Project Falcon`));
        ok(await adele.press('Send for approval'));
        ok(await adele.say('They review the launch plan with us this quarter.'));
      },
    );
    // Alex gets one card per request; the races: Approve against Approve, or Approve against Reject.
    await alex.waitForText(/race\.partner/, { times: RACES, timeoutMs: 60_000 });
    const cardOf = (i: number) => {
      const sent = alex.received().filter((r) => r.kind === 'send' && activityText(r.activity).includes(guest(i)));
      expect(sent).toHaveLength(1);
      const card = (sent[0] as (typeof sent)[number]).activity;
      return { actions: cardActions(card), reasonInput: inputIdsFor(card, 'approval.reject')[0] ?? 'missing' };
    };
    const outcomes: Array<{ i: number; kinds: string[]; upstreams: Array<number | null> }> = [];
    for (let i = 0; i < RACES; i++) {
      const { actions, reasonInput } = cardOf(i);
      const approve = actions.find((a) => a.verb === 'approval.approve');
      const reject = actions.find((a) => a.verb === 'approval.reject');
      if (!approve || !reject) throw new Error(`request ${i}: no Approve/Reject on the card`);
      const second = i % 2 === 0 ? approve : reject;
      const from = cluster.proxy.log.length;
      const answers = await Promise.all([
        alex.pressAction({ type: 'Action.Execute', verb: approve.verb, data: approve.data }),
        alex.pressAction({ type: 'Action.Execute', verb: second.verb, data: second.data }, { [reasonInput]: 'Not this quarter.' }),
      ]);
      const kinds = answers.map((a) => {
        const text = JSON.stringify(a.body);
        return text.includes('You approved the request') ? 'approved' : text.includes('You rejected the request') ? 'rejected' : /already (approved|rejected)/.test(text) ? 'lost' : text.slice(0, 300);
      });
      outcomes.push({ i, kinds, upstreams: cluster.proxy.log.slice(from).map((r) => r.upstream) });
    }
    // Both instances took part in every race.
    expect(outcomes.filter((o) => new Set(o.upstreams).size !== 2)).toEqual([]);
    // Exactly one click won each race.
    expect(outcomes.filter((o) => o.kinds.filter((k) => k === 'approved' || k === 'rejected').length !== 1 || !o.kinds.includes('lost'))).toEqual([]);
    // The requester is told once, the decision that won.
    const toldOf = (o: (typeof outcomes)[number]): string[] =>
      (requesterOf.get(o.i) as TeamsUser)
        .received()
        .filter((r) => r.kind === 'send' && activityText(r.activity).includes(guest(o.i)))
        .flatMap((r) => /Your request: (approved|rejected)/.exec(activityText(r.activity))?.[1] ?? []);
    for (const o of outcomes) {
      const adele = requesterOf.get(o.i) as TeamsUser;
      await adele.waitForText(new RegExp(`Your request: (approved|rejected)[\\s\\S]*${guest(o.i).replace(/\./g, '\\.')}`), { timeoutMs: 30_000 });
    }
    // A duplicate, if any, has its chance to arrive.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(outcomes.filter((o) => JSON.stringify(toldOf(o)) !== JSON.stringify(o.kinds.filter((k) => k !== 'lost')))).toEqual([]);
    // One invitation per approved request, none for a rejected one.
    const perAddress = invitationsPerAddress(cluster.tenant);
    const wrong = outcomes.filter((o) => (perAddress.get(guest(o.i)) ?? 0) !== (o.kinds.includes('approved') ? 1 : 0));
    expect(wrong).toEqual([]);
  }, 240_000);
});
