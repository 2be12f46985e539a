/**
 * Azure Storage out of reach mid-run: two instances on Azurite (its data in a folder, so a restart
 * on the same ports finds it), a bulk job running and a guided invitation half-way. Azurite is
 * stopped: a turn is answered "try again in a moment"; Azurite comes back: the dialog goes on
 * where it was and the job finishes, nothing lost, nothing sent twice.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAzurite, type AzuriteInstance } from '../../src/tools/azurite';
import { DEMO } from '../support/directory';
import { graphCounts, invitationsPerAddress, startCluster, type Cluster } from '../support/instances/cluster';
import { teamsUser, type PostResult } from '../support/instances/teamsClient';

const ROWS = Number(process.env.INSTANCES_FAULT_ROWS ?? 600);

const ok = (answer: PostResult): PostResult => {
  if (answer.status >= 300) throw new Error(`HTTP ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer;
};

describe('Azure Storage stopped and restarted mid-run', () => {
  let folder: string;
  let azurite: AzuriteInstance;
  let cluster: Cluster;

  beforeAll(async () => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'gob-azurite-faults-'));
    azurite = await startAzurite({ location: folder });
    cluster = await startCluster({
      store: { kind: 'azure', env: { AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString, AZURE_STORAGE_PREFIX: 'faults' } },
      env: { INVITES_PER_5S: '150' },
      graph: { limits: { invitationsPer5s: 150 } },
    });
  }, 180_000);

  afterAll(async () => {
    if (process.env.DUMP) for (const i of cluster?.instances ?? []) process.stderr.write(`--- instance ${i.index}\n${i.output().split('\n').filter((l) => !l.includes('"level":30')).slice(-80).join('\n')}\n`);
    await cluster?.close();
    await azurite?.stop();
    fs.rmSync(folder, { recursive: true, force: true });
  }, 60_000);

  it('turns answer "try again in a moment" while it is down; afterwards the dialog goes on and the job finishes, 0 lost, 0 duplicates', async () => {
    const owner = teamsUser('megan', cluster);
    const emails = Array.from({ length: ROWS }, (_, i) => `f${i}@ex.io`);
    const fromRequest = cluster.graph.requestLog.length;
    ok(await owner.say(['bulk invite to Project Falcon', 'Name,Email', ...emails.map((e) => `,${e}`)].join('\n')));
    await owner.waitForText('Will be sent');
    ok(await owner.press('Confirm'));
    const chat = teamsUser('megan', cluster);
    ok(await chat.say('invite a guest'));
    await chat.waitForText("What is the guest's email address?");
    const invited = (): number => emails.filter((e) => (invitationsPerAddress(cluster.tenant).get(e) ?? 0) > 0).length;
    const deadline = Date.now() + 120_000;
    while (invited() < ROWS / 5) {
      if (Date.now() > deadline) throw new Error(`only ${invited()} invited after 120 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const { ports } = azurite;
    await azurite.stop();
    ok(await chat.say('outage.guest@fabrikam.com'));
    await chat.waitForText('try again in a moment', { timeoutMs: 90_000 });
    const atOutage = invited();
    azurite = await startAzurite({ location: folder, ports });

    // The question is still open: the same answer moves the dialog on.
    ok(await chat.say('outage.guest@fabrikam.com'));
    await chat.waitForText('What name should they have in your organisation', { timeoutMs: 60_000 });
    await owner.waitForText('Bulk invitation finished', { timeoutMs: 240_000 });
    const counts = graphCounts(cluster, DEMO.groups.projectFalcon.id, emails, fromRequest);
    expect({ stoppedMidRun: atOutage < ROWS, lost: counts.lost, duplicateInvitations: counts.duplicateInvitations, duplicateMemberships: counts.duplicateMemberships }).toEqual({
      stoppedMidRun: true,
      lost: 0,
      duplicateInvitations: 0,
      duplicateMemberships: 0,
    });
  }, 480_000);
});
