import {
  accessEndFor,
  accessStatus,
  autoWithdrawAt,
  DEFAULT_LIFECYCLE_SETTINGS,
  mayDeleteOnWithdraw,
  removalPlan,
  renewalReminderStep,
  renewalReminderTimes,
  renewedEnd,
  unredeemedReminderAt,
  type LifecycleSettings,
} from '../../../src/domain/lifecycle';

const S: LifecycleSettings = DEFAULT_LIFECYCLE_SETTINGS;
const T0 = '2025-03-03T09:00:00.000Z';
const day = (n: number): string => new Date(Date.parse(T0) + n * 86_400_000).toISOString();

describe('lifecycle rules', () => {
  it('defaults follow the settings of the issue: 180 days, reminder after 7, no auto-withdraw, renewal reminders 14 and 1, remove from group', () => {
    expect(S).toMatchObject({ accessDays: 180, unredeemedReminderDays: 7, unredeemedWithdrawDays: null, renewalReminderDays: [14, 1], removal: 'removeFromGroup', deleteAfterDays: 30 });
  });

  it('end dates: the default period, a per-site override, "no end" only where configured', () => {
    const settings = { ...S, siteAccessDays: { falcon: 30, archive: null } };
    expect(accessEndFor(settings, 'eagle', T0)).toBe(day(180));
    expect(accessEndFor(settings, 'falcon', T0)).toBe(day(30));
    expect(accessEndFor(settings, 'archive', T0)).toBeNull();
    expect(accessEndFor({ ...S, accessDays: null }, 'eagle', T0)).toBeNull();
    // A site named like an Object property is just a site.
    expect(accessEndFor(settings, 'constructor', T0)).toBe(day(180));
    // Group ids compare without case.
    expect(accessEndFor(settings, 'FALCON', T0)).toBe(day(30));
  });

  it('a renewal adds a full period to the current end, or to now when the end has passed', () => {
    expect(renewedEnd(S, 'g', day(180), new Date(day(170)))).toBe(day(360));
    expect(renewedEnd(S, 'g', day(180), new Date(day(190)))).toBe(day(370));
  });

  it('unredeemed reminder and auto-withdraw times, off when set to 0 / null', () => {
    expect(unredeemedReminderAt(S, T0)).toBe(day(7));
    expect(unredeemedReminderAt({ ...S, unredeemedReminderDays: 0 }, T0)).toBeNull();
    expect(autoWithdrawAt(S, T0)).toBeNull();
    expect(autoWithdrawAt({ ...S, unredeemedWithdrawDays: 30 }, T0)).toBe(day(30));
  });

  it('renewal reminders: earliest first; the most urgent due one is sent and covers the older ones', () => {
    expect(renewalReminderTimes({ ...S, renewalReminderDays: [1, 14, 14, 0] }, day(180))).toEqual([
      { daysBefore: 14, at: day(166) },
      { daysBefore: 1, at: day(179) },
    ]);
    expect(renewalReminderStep(S, day(180), [], new Date(day(100)))).toEqual({ send: null, covers: [], nextAt: day(166) });
    expect(renewalReminderStep(S, day(180), [], new Date(day(166)))).toEqual({ send: { daysBefore: 14 }, covers: [14], nextAt: day(179) });
    expect(renewalReminderStep(S, day(180), [14], new Date(day(170)))).toEqual({ send: null, covers: [], nextAt: day(179) });
    expect(renewalReminderStep(S, day(180), [], new Date(day(179.5)))).toEqual({ send: { daysBefore: 1 }, covers: [14, 1], nextAt: null });
    expect(renewalReminderStep(S, day(180), [], new Date(day(180)))).toEqual({ send: null, covers: [], nextAt: null });
  });

  it('"ending soon" within the first reminder\'s reach of the end, for running access only', () => {
    expect(accessStatus(S, { state: 'accepted', endsAt: day(180) }, new Date(day(165)))).toBe('accepted');
    expect(accessStatus(S, { state: 'accepted', endsAt: day(180) }, new Date(day(166)))).toBe('endingSoon');
    expect(accessStatus(S, { state: 'invited', endsAt: day(180) }, new Date(day(170)))).toBe('endingSoon');
    expect(accessStatus(S, { state: 'ended', endsAt: day(180) }, new Date(day(170)))).toBe('ended');
    expect(accessStatus(S, { state: 'accepted', endsAt: null }, new Date(day(170)))).toBe('accepted');
  });

  it('a withdrawn account is deleted only if never redeemed, in no other group, and policy allows', () => {
    expect(mayDeleteOnWithdraw(S, { everRedeemed: false, otherMemberships: 0 })).toBe(true);
    expect(mayDeleteOnWithdraw(S, { everRedeemed: true, otherMemberships: 0 })).toBe(false);
    expect(mayDeleteOnWithdraw(S, { everRedeemed: false, otherMemberships: 1 })).toBe(false);
    expect(mayDeleteOnWithdraw({ ...S, deleteOnWithdraw: false }, { everRedeemed: false, otherMemberships: 0 })).toBe(false);
  });

  it('removal modes mirror externalUserLifecycleAction: none, blockSignIn, blockSignInAndDelete after N days', () => {
    const ended = new Date(day(180));
    expect(removalPlan(S, { otherMemberships: 0 }, ended)).toEqual({ blockSignIn: false, deleteAt: null, keptBecause: null });
    expect(removalPlan({ ...S, removal: 'blockSignIn' }, { otherMemberships: 0 }, ended)).toEqual({ blockSignIn: true, deleteAt: null, keptBecause: null });
    expect(removalPlan({ ...S, removal: 'delete', deleteAfterDays: 10 }, { otherMemberships: 0 }, ended)).toEqual({ blockSignIn: true, deleteAt: day(190), keptBecause: null });
    expect(removalPlan({ ...S, removal: 'delete' }, { otherMemberships: 2 }, ended)).toEqual({ blockSignIn: false, deleteAt: null, keptBecause: 'otherMemberships' });
  });
});
