import type { LifecycleSettings } from '../domain/lifecycle';
import type { Env } from './config';

/** The guest lifecycle's settings, from the validated environment (README, Guest lifecycle). */
export function lifecycleSettingsFrom(env: Env): LifecycleSettings {
  return {
    accessDays: env.GUEST_ACCESS_DAYS,
    siteAccessDays: env.GUEST_ACCESS_DAYS_BY_SITE,
    unredeemedReminderDays: env.UNREDEEMED_REMINDER_DAYS,
    unredeemedWithdrawDays: env.UNREDEEMED_AUTO_WITHDRAW ? env.UNREDEEMED_WITHDRAW_DAYS : null,
    renewalReminderDays: env.RENEWAL_REMINDER_DAYS,
    removal: env.GUEST_REMOVAL,
    deleteAfterDays: env.GUEST_DELETE_AFTER_DAYS,
    deleteOnWithdraw: env.GUEST_ACCOUNT_DELETE_ON_WITHDRAW,
  };
}
