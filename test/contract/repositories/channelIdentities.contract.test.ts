/** Channel account / Entra user pairs: the same answers over SQLite and memory. */
import type { ConversationReference } from 'botbuilder';
import { coreMigrations } from '../../../src/adapters/sqlite/coreMigrations';
import { openDatabase } from '../../../src/adapters/sqlite/database';
import { channelIdentityMigrations, SqliteChannelIdentityRepository } from '../../../src/adapters/sqlite/channelIdentities';
import { SqliteConversationReferenceRepository } from '../../../src/adapters/sqlite/conversationReferences';
import { MemoryChannelIdentityRepository } from '../../../src/adapters/memory/channelIdentities';
import { MemoryConversationReferenceRepository } from '../../../src/adapters/memory/conversationReferences';
import type { ChannelAccount, ChannelIdentityRepository } from '../../../src/usecases/ports/channelIdentities';
import type { ConversationReferenceRepository } from '../../../src/usecases/ports/conversationReferences';
import { manualClock } from '../../support/store';
import { AzureChannelIdentityRepository } from '../../../src/adapters/azure/channelIdentities';
import { AzureConversationReferenceRepository } from '../../../src/adapters/azure/conversationReferences';
import { useAzurite } from '../../support/azurite';

const azurite = useAzurite();

type Make = () => { identities: ChannelIdentityRepository; references: ConversationReferenceRepository };

const makeSqlite: Make = () => {
  const db = openDatabase(':memory:', [...coreMigrations, ...channelIdentityMigrations]);
  const clock = manualClock();
  const references = new SqliteConversationReferenceRepository(db, clock);
  return { references, identities: new SqliteChannelIdentityRepository(db, references, clock) };
};

const makeMemory: Make = () => {
  const clock = manualClock();
  const references = new MemoryConversationReferenceRepository(clock);
  return { references, identities: new MemoryChannelIdentityRepository(references, clock) };
};
const makeAzure: Make = () => {
  const account = azurite.account();
  const clock = manualClock();
  const references = new AzureConversationReferenceRepository(account, clock);
  return { references, identities: new AzureChannelIdentityRepository(account, references, clock) };
};

const TENANT = 'c0a7f3e2-1d4b-4e8a-9f6c-2b5d8e1a7c30';
const MEGAN = '6f1c2b3a-0001-4c5d-8e9f-0a1b2c3d4e01';
const ALEX = '6f1c2b3a-0003-4c5d-8e9f-0a1b2c3d4e03';

const pair = (channelUserId: string, aadObjectId: string, more: Partial<ChannelAccount> = {}): ChannelAccount => ({
  channelId: 'msteams',
  tenantId: TENANT,
  channelUserId,
  aadObjectId,
  ...more,
});

describe.each([
  ['sqlite', makeSqlite],
  ['memory', makeMemory],
  ['azure', makeAzure],
])('ChannelIdentityRepository contract (%s)', (_name, make) => {
  it('remembers a pair seen first, and keeps agreeing with it', async () => {
    const { identities } = make();
    expect(await identities.checkAndRemember(pair('29:megan', MEGAN))).toEqual({ ok: true });
    expect(await identities.checkAndRemember(pair('29:megan', MEGAN))).toEqual({ ok: true });
  });

  it('refuses one person’s channel account with another’s object id, either way round', async () => {
    const { identities } = make();
    await identities.checkAndRemember(pair('29:megan', MEGAN));
    await identities.checkAndRemember(pair('29:alex', ALEX));
    expect(await identities.checkAndRemember(pair('29:megan', ALEX))).toEqual({ ok: false, reason: 'channelAccountBelongsToAnother' });
    expect(await identities.checkAndRemember(pair('29:new', MEGAN))).toEqual({ ok: false, reason: 'objectIdBelongsToAnother' });
    // The refusals changed nothing.
    expect(await identities.checkAndRemember(pair('29:megan', MEGAN))).toEqual({ ok: true });
  });

  it('compares channel, tenant and object id case-insensitively, and keeps channels and tenants apart', async () => {
    const { identities } = make();
    await identities.checkAndRemember(pair('29:megan', MEGAN));
    expect(await identities.checkAndRemember(pair('29:megan', MEGAN.toUpperCase(), { channelId: 'MSTeams', tenantId: TENANT.toUpperCase() }))).toEqual({
      ok: true,
    });
    // Another channel or tenant is another namespace of channel accounts.
    expect(await identities.checkAndRemember(pair('29:megan', ALEX, { channelId: 'webchat' }))).toEqual({ ok: true });
    expect(await identities.checkAndRemember(pair('29:megan', ALEX, { tenantId: 'another-tenant' }))).toEqual({ ok: true });
  });

  it('a personal chat stored before pairs were kept vouches for its channel account', async () => {
    const { identities, references } = make();
    const personal: Partial<ConversationReference> = {
      channelId: 'msteams',
      serviceUrl: 'https://smba.example/',
      bot: { id: '28:bot', name: 'Bot' },
      user: { id: '29:megan', name: 'Megan', aadObjectId: MEGAN },
      conversation: { id: 'a:megan', conversationType: 'personal', tenantId: TENANT, isGroup: false, name: '' },
    };
    await references.upsert(personal);
    expect(await identities.checkAndRemember(pair('29:impostor', MEGAN))).toEqual({ ok: false, reason: 'objectIdBelongsToAnother' });
    expect(await identities.checkAndRemember(pair('29:megan', MEGAN))).toEqual({ ok: true });
  });

  it('two first sightings at once of one channel account with two object ids: exactly one pair is kept', async () => {
    const { identities } = make();
    const results = await Promise.all([MEGAN, ALEX, '6f1c2b3a-0004-4c5d-8e9f-0a1b2c3d4e04'].map((id) => identities.checkAndRemember(pair('29:shared', id))));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });
});
