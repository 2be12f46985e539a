/** Refusals in plain words: what is wrong, which setting decides it and who can change it. */
import { isDirectoryError } from '../ports/Directory';
import type { InviteOutcome, Refusal, RefusalCode } from './model';

/** A request the use case refuses before anything changes. `refusal.message` is safe to show. */
export class InviteRefusedError extends Error {
  constructor(readonly refusal: Refusal, options: { cause?: unknown } = {}) {
    super(refusal.message, options);
    this.name = 'InviteRefusedError';
  }
}

/** Longest display name accepted (Entra's displayName limit). */
export const MAX_DISPLAY_NAME = 256;

/** Checks a display name as typed: trimmed, 1–256 characters, no control characters. */
export function validateDisplayName(raw: string): { ok: true; name: string } | { ok: false; reason: string } {
  const name = raw.trim();
  if (name === '') return { ok: false, reason: "the name can't be empty" };
  // eslint-disable-next-line no-control-regex
  const control = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.exec(name);
  if (control) {
    const cp = control[0].codePointAt(0) ?? 0;
    return {
      ok: false,
      reason: `the name contains an invisible control character (U+${cp.toString(16).toUpperCase().padStart(4, '0')}); please type it again`,
    };
  }
  const length = Array.from(name).length;
  if (length > MAX_DISPLAY_NAME) {
    return { ok: false, reason: `that name is ${length} characters long; the most is ${MAX_DISPLAY_NAME}` };
  }
  return { ok: true, name };
}

export const ENTRA_ADMIN = 'a Global Administrator (Microsoft Entra admin center → External Identities → External collaboration settings)';
const CONSENT_ADMIN = 'an administrator who can grant admin consent to the bot’s app registration (e.g. a Privileged Role Administrator)';

export function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function notOwnerRefusal(siteName: string): Refusal {
  return {
    code: 'notOwner',
    message: `Only the site's owners can invite guests to ${siteName}. Ask one of its owners, or an owner can add you as an owner.`,
    setting: 'site ownership',
    whoCanChange: `an owner of ${siteName}`,
  };
}

export function blockedRefusal(setting: string, explanation: string, whoCanChange: string, code: RefusalCode = 'blocked'): Refusal {
  const resolved: RefusalCode = code === 'blocked' && setting.startsWith('sharePoint.sharingCapability') ? 'sharingDisabled' : code;
  return {
    code: setting === 'authorizationPolicy.allowInvitesFrom' ? 'invitesRestricted' : resolved,
    message: `${explanation} (setting: ${setting}; who can change it: ${whoCanChange}). Nothing was sent.`,
    setting,
    whoCanChange,
  };
}

export function failedOutcome(refusal: Refusal): InviteOutcome {
  return { status: 'failed', kind: null, record: null, redeemUrl: null, alreadyDone: false, refusal, advice: null, target: null };
}

/** A directory failure in plain words, naming the setting or permission and who can fix it. */
export function refusalFromError(e: unknown, attempts: number): Refusal {
  if (!isDirectoryError(e)) {
    return { code: 'directoryUnavailable', message: 'Something went wrong talking to the directory. Nothing was changed.', setting: null, whoCanChange: null };
  }
  switch (e.code) {
    case 'throttled':
      return {
        code: 'throttled',
        message: `Microsoft Graph is busy (throttling) and refused the request ${attempts} times. Nothing more was changed; please try again in a few minutes.`,
        setting: null,
        whoCanChange: null,
      };
    case 'transient':
      return {
        code: 'directoryUnavailable',
        message: `Microsoft Graph had a temporary problem (${attempts} tries). Please try again in a few minutes.`,
        setting: null,
        whoCanChange: null,
      };
    case 'permissionMissing':
      return {
        code: 'permissionMissing',
        message: `${e.userMessage} Nothing was changed.`,
        setting: e.permission ? `Microsoft Graph application permission ${e.permission}` : 'Microsoft Graph application permissions',
        whoCanChange: CONSENT_ADMIN,
      };
    case 'forbiddenByPolicy':
      return {
        code: 'blocked',
        message: `${e.userMessage} Nothing was sent.`,
        setting: 'B2B collaboration settings',
        whoCanChange: ENTRA_ADMIN,
      };
    case 'invalidInput':
      return { code: 'invalidEmail', message: e.userMessage, setting: null, whoCanChange: null };
    default:
      return { code: 'directoryUnavailable', message: e.userMessage, setting: null, whoCanChange: null };
  }
}
