import fs from 'node:fs';
import path from 'node:path';
import { syncInstructionsCard } from '../../../src/teams/invite/cards/syncInstructionsCard';
import type { SignInMethod } from '../../../src/domain/signInAdvice';

const FALCON = { groupId: 'g1', siteName: 'Project Falcon', siteUrl: 'https://contoso.sharepoint.com/sites/ProjectFalcon' };

function textOf(value: unknown): string {
  const parts: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') parts.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return parts.join('\n');
}

describe("the sync card after an invitation fits the guest's sign-in", () => {
  it.each<[SignInMethod | null, boolean | 'depends', string, boolean, boolean]>([
    // method, syncAvailable, title, lists sync limits, has steps (with "accept first")
    ['workOrSchoolAccount', true, 'Syncing Project Falcon with OneDrive', true, true],
    [null, 'depends', 'Syncing Project Falcon with OneDrive', true, true],
    ['googleFederation', false, 'Project Falcon without OneDrive sync', false, false],
    ['microsoftAccount', false, 'Project Falcon without OneDrive sync', false, false],
    ['emailOneTimePasscode', false, 'Project Falcon without OneDrive sync', false, false],
    ['samlWsFedFederation', false, 'Project Falcon without OneDrive sync', false, false],
  ])('%s', (method, syncAvailable, title, limits, steps) => {
    const text = textOf(syncInstructionsCard('Jane Doe', method, syncAvailable, FALCON, 'Contoso').content);
    expect(text).toContain(title);
    expect(text.includes('What cannot be synced')).toBe(limits);
    expect(text.includes('Accept the invitation first: open the invitation link once')).toBe(steps);
  });
});

describe('one name for the guest\'s link', () => {
  it('no card template calls it a "redeem link"; the cards that show it say "invitation link"', () => {
    const dir = path.resolve(__dirname, '../../../cards');
    const offenders = fs.readdirSync(dir).filter((f) => /redeem link/i.test(fs.readFileSync(path.join(dir, f), 'utf8')));
    expect(offenders).toEqual([]);
    for (const f of ['inviteResult.json', 'invitationStatus.json']) {
      expect(fs.readFileSync(path.join(dir, f), 'utf8')).toMatch(/[Ii]nvitation link/);
    }
  });
});
