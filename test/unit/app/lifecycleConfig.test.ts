import path from 'node:path';
import { ConfigError, loadConfig } from '../../../src/app/config';
import { lifecycleSettingsFrom } from '../../../src/app/lifecycleSettings';
import { DEFAULT_LIFECYCLE_SETTINGS } from '../../../src/domain/lifecycle';

const ROOT = path.join(path.sep, 'srv', 'bot');
const FALCON = '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env, ROOT);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('guest lifecycle configuration', () => {
  it('defaults: 180 days, reminder after 7, no auto-withdraw, renewal reminders 14 and 1, remove from group', () => {
    expect(lifecycleSettingsFrom(loadConfig({}, ROOT).env)).toEqual(DEFAULT_LIFECYCLE_SETTINGS);
  });

  it('reads every variable', () => {
    const env = loadConfig(
      {
        GUEST_ACCESS_DAYS: '90',
        GUEST_ACCESS_DAYS_BY_SITE: `${FALCON.toUpperCase()}=30, 11111111-2222-4333-8444-555555555555=none`,
        UNREDEEMED_REMINDER_DAYS: '3',
        UNREDEEMED_AUTO_WITHDRAW: 'true',
        UNREDEEMED_WITHDRAW_DAYS: '21',
        RENEWAL_REMINDER_DAYS: '1, 7,30',
        GUEST_REMOVAL: 'delete',
        GUEST_DELETE_AFTER_DAYS: '10',
        GUEST_ACCOUNT_DELETE_ON_WITHDRAW: 'false',
      },
      ROOT,
    ).env;
    expect(lifecycleSettingsFrom(env)).toEqual({
      accessDays: 90,
      siteAccessDays: { [FALCON]: 30, '11111111-2222-4333-8444-555555555555': null },
      unredeemedReminderDays: 3,
      unredeemedWithdrawDays: 21,
      renewalReminderDays: [30, 7, 1],
      removal: 'delete',
      deleteAfterDays: 10,
      deleteOnWithdraw: false,
    });
    expect(lifecycleSettingsFrom(loadConfig({ GUEST_ACCESS_DAYS: 'none', RENEWAL_REMINDER_DAYS: 'none' }, ROOT).env)).toMatchObject({ accessDays: null, renewalReminderDays: [] });
  });

  it('refuses malformed values, naming the variable', () => {
    expect(problemsOf({ GUEST_ACCESS_DAYS: 'forever' })[0]).toMatch(/^GUEST_ACCESS_DAYS: expected a whole number of days/);
    expect(problemsOf({ GUEST_ACCESS_DAYS: '0' })[0]).toMatch(/^GUEST_ACCESS_DAYS: /);
    expect(problemsOf({ GUEST_ACCESS_DAYS_BY_SITE: 'Project Falcon=30' })[0]).toMatch(/^GUEST_ACCESS_DAYS_BY_SITE: expected <group id>=/);
    expect(problemsOf({ GUEST_ACCESS_DAYS_BY_SITE: `${FALCON}=0` })[0]).toMatch(/^GUEST_ACCESS_DAYS_BY_SITE: /);
    expect(problemsOf({ RENEWAL_REMINDER_DAYS: '14,soon' })[0]).toMatch(/^RENEWAL_REMINDER_DAYS: /);
    expect(problemsOf({ GUEST_REMOVAL: 'archive' })[0]).toBe('GUEST_REMOVAL: expected removeFromGroup, blockSignIn or delete');
    expect(problemsOf({ UNREDEEMED_REMINDER_DAYS: '-1' })[0]).toMatch(/^UNREDEEMED_REMINDER_DAYS: /);
  });

  it('refuses settings that do not fit together', () => {
    expect(problemsOf({ UNREDEEMED_AUTO_WITHDRAW: 'true', UNREDEEMED_WITHDRAW_DAYS: '7' })).toEqual([
      'UNREDEEMED_WITHDRAW_DAYS: expected more days than UNREDEEMED_REMINDER_DAYS (the sponsor is reminded before the invitation is withdrawn)',
    ]);
    // Off, the withdraw days do not matter.
    expect(() => loadConfig({ UNREDEEMED_WITHDRAW_DAYS: '7' }, ROOT)).not.toThrow();
    expect(problemsOf({ GUEST_ACCESS_DAYS: '14' })).toEqual([
      'RENEWAL_REMINDER_DAYS: expected fewer days than GUEST_ACCESS_DAYS (a reminder before the access starts is no reminder)',
    ]);
  });
});
