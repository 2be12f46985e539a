import { checkPair, ConfirmedPairs, type ChannelAccount, type PairTable } from '../../../src/usecases/ports/channelIdentities';

/** The pairs a process has found stored answer the identity guard without a read. */

const account = (channelUserId: string, aadObjectId: string): ChannelAccount => ({ channelId: 'msteams', tenantId: 'T', channelUserId, aadObjectId });

function countingTable(): PairTable & { reads: number; byUser: Map<string, string> } {
  const byUser = new Map<string, string>();
  const byObject = new Map<string, string>();
  const table = {
    reads: 0,
    byUser,
    objectIdOf: (_c: string, _t: string, user: string) => {
      table.reads += 1;
      return byUser.get(user);
    },
    channelUserOf: (_c: string, _t: string, object: string) => {
      table.reads += 1;
      return byObject.get(object);
    },
    insertIfAbsent: (_c: string, _t: string, user: string, object: string) => {
      if (byUser.has(user) || byObject.has(object)) return;
      byUser.set(user, object);
      byObject.set(object, user);
    },
  };
  return table;
}

describe('ConfirmedPairs', () => {
  it('answers a known person, and refuses another object id on that account, without reading', async () => {
    const table = countingTable();
    let personalReads = 0;
    const references = { getPersonal: () => ((personalReads += 1), Promise.resolve(null)) };
    const confirmed = new ConfirmedPairs();
    const now = () => new Date(0);
    expect(await checkPair(account('29:megan', 'OBJ-1'), table, references, now, confirmed)).toEqual({ ok: true });
    const reads = table.reads;
    expect(personalReads).toBe(1);
    for (let i = 0; i < 3; i++) expect(await checkPair(account('29:megan', 'obj-1'), table, references, now, confirmed)).toEqual({ ok: true });
    expect(await checkPair(account('29:megan', 'obj-2'), table, references, now, confirmed)).toEqual({ ok: false, reason: 'channelAccountBelongsToAnother' });
    expect(table.reads).toBe(reads);
    expect(personalReads).toBe(1);
    // A pair found stored by another process is remembered at its first look-up.
    table.byUser.set('29:alex', 'obj-3');
    expect(await checkPair(account('29:alex', 'obj-3'), table, references, now, confirmed)).toEqual({ ok: true });
    expect(await checkPair(account('29:alex', 'obj-4'), table, references, now, confirmed)).toEqual({ ok: false, reason: 'channelAccountBelongsToAnother' });
    expect(confirmed.size).toBe(2);
  });

  it('does not remember a refusal for an object id paired elsewhere', async () => {
    const table = countingTable();
    const confirmed = new ConfirmedPairs();
    const now = () => new Date(0);
    await checkPair(account('29:megan', 'obj-1'), table, null, now, confirmed);
    expect(await checkPair(account('29:impostor', 'obj-1'), table, null, now, confirmed)).toEqual({ ok: false, reason: 'objectIdBelongsToAnother' });
    expect(confirmed.size).toBe(1);
  });

  it('keeps at most its bound, forgetting the least recently asked first', () => {
    const confirmed = new ConfirmedPairs(3);
    for (const user of ['a', 'b', 'c']) confirmed.remember('msteams', 't', user, `o-${user}`);
    expect(confirmed.objectIdOf('msteams', 't', 'a')).toBe('o-a');
    confirmed.remember('msteams', 't', 'd', 'o-d');
    expect(confirmed.size).toBe(3);
    expect(confirmed.objectIdOf('msteams', 't', 'b')).toBeUndefined();
    expect(confirmed.objectIdOf('msteams', 't', 'a')).toBe('o-a');
    expect(confirmed.objectIdOf('msteams', 't', 'd')).toBe('o-d');
    // Channel and tenant are part of the key.
    expect(confirmed.objectIdOf('webchat', 't', 'a')).toBeUndefined();
    expect(confirmed.objectIdOf('msteams', 'u', 'a')).toBeUndefined();
  });
});
