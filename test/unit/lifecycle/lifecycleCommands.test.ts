/** What a person types to the lifecycle, as the feature reads it (and what it leaves to others). */
import { parseLifecycleCommand } from '../../../src/teams/lifecycle/lifecycleCommands';

describe('lifecycle commands', () => {
  it.each([
    ['my guests', { kind: 'myGuests', includeEnded: false }],
    ['  Show my guests! ', { kind: 'myGuests', includeEnded: false }],
    ['my guests including ended', { kind: 'myGuests', includeEnded: true }],
    ['guests of Project Falcon', { kind: 'guestsOf', siteName: 'Project Falcon', includeEnded: false }],
    ['guests of "Project Falcon"?', { kind: 'guestsOf', siteName: 'Project Falcon', includeEnded: false }],
    ['show guests in the site Marketing including ended', { kind: 'guestsOf', siteName: 'Marketing', includeEnded: true }],
    ['make Alex the sponsor of jane@fabrikam.com', { kind: 'handOver', person: 'Alex', guest: 'jane@fabrikam.com', siteName: null }],
    ['Make Alex Wilber the new sponsor of jane@fabrikam.com on Project Falcon.', { kind: 'handOver', person: 'Alex Wilber', guest: 'jane@fabrikam.com', siteName: 'Project Falcon' }],
    ['make me sponsor for jane@fabrikam.com', { kind: 'handOver', person: 'me', guest: 'jane@fabrikam.com', siteName: null }],
    ['what is scheduled for jane@fabrikam.com?', { kind: 'schedule', guest: 'jane@fabrikam.com' }],
    ["what's scheduled for  jane@fabrikam.com", { kind: 'schedule', guest: 'jane@fabrikam.com' }],
  ])('%j', (text, expected) => {
    expect(parseLifecycleCommand(text)).toEqual(expected);
  });

  it.each(['my invitations', 'invite Jane Doe jane@fabrikam.com to Project Falcon', 'guests report', 'export guests', 'review Project Falcon', 'make it so', 'guests of', 'help'])(
    'leaves %j to the other features',
    (text) => {
      expect(parseLifecycleCommand(text)).toBeNull();
    },
  );

  it('reads a long line of spaces and punctuation (plain string steps, no backtracking)', () => {
    const text = `guests of ${' !'.repeat(50_000)}x${'.'.repeat(50_000)}`;
    expect(parseLifecycleCommand(text)).toMatchObject({ kind: 'guestsOf' });
  });
});
