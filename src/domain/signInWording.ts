/** How sign-in facts read: method names, one-time passcode facts, sign-in links and the settings' names. */
import type { BlockingSetting, SignInMethod } from './signInAdvice';

/** OTP facts from the one-time passcode documentation. */
export const OTP_CODE_VALID_MINUTES = 30;
export const OTP_SESSION_HOURS = 24;

/**
 * How a one-time passcode guest signs in after the first time, as the current doc puts it: a link
 * that carries the tenant is the surest; on a general sign-in page (one with no tenant in it) they
 * choose "Sign-in options" → "Sign in to an organization" and type the organisation's name.
 * https://learn.microsoft.com/en-us/entra/external-id/one-time-passcode#sign-in-endpoints
 */
export function otpSignInAdvice(tenantName: string, reader: 'you' | 'they' = 'you'): string {
  const subject = reader === 'you' ? 'you' : 'they';
  return `The surest way in is the ${tenantName} sign-in link (it names ${tenantName}). On a general Microsoft sign-in page, ${subject} can also choose "Sign-in options", then "Sign in to an organization", and type ${tenantName}.`;
}


/**
 * Tenant-context sign-in link: the surest way in for one-time passcode guests. The current doc
 * also lets them use a common endpoint through "Sign-in options" → "Sign in to an organization"
 * (see OTP_SIGN_IN_ADVICE), so this is the recommended link, not the only one that works.
 * https://learn.microsoft.com/en-us/entra/external-id/one-time-passcode#sign-in-endpoints
 */
export function signInUrlFor(tenantId: string): string {
  return `https://myapps.microsoft.com/?tenantid=${encodeURIComponent(tenantId)}`;
}

/** Plain-English name of a method, for cards. */
export function methodLabel(method: SignInMethod): string {
  switch (method) {
    case 'workOrSchoolAccount':
      return 'work or school account (Microsoft Entra ID)';
    case 'samlWsFedFederation':
      return "their organisation's own sign-in (SAML/WS-Fed federation)";
    case 'googleFederation':
      return 'Google account';
    case 'microsoftAccount':
      return 'personal Microsoft account';
    case 'emailOneTimePasscode':
      return 'one-time passcode sent by email';
    case 'createMicrosoftAccount':
      return 'a new personal Microsoft account (created at sign-in)';
  }
}

/**
 * The method as read after "sign in with" or "otherwise": "a Google account", "their
 * organisation's own sign-in (…)". `reader: 'you'` when the sentence speaks to the guest.
 */
export function methodWithArticle(method: SignInMethod, reader: 'they' | 'you' = 'they'): string {
  switch (method) {
    case 'samlWsFedFederation':
      return `${reader === 'you' ? 'your' : 'their'} organisation's own sign-in (SAML/WS-Fed federation)`;
    case 'createMicrosoftAccount':
      // The label already reads "a new personal Microsoft account …".
      return methodLabel(method);
    case 'workOrSchoolAccount':
    case 'googleFederation':
    case 'microsoftAccount':
    case 'emailOneTimePasscode':
      return `a ${methodLabel(method)}`;
  }
}

/** Where an admin finds each blocking setting, in the admin centers' own words. */
const SETTING_TITLES: Readonly<Record<string, string>> = {
  'authorizationPolicy.allowInvitesFrom': 'Guest invite restrictions',
  'b2bManagementPolicy.blockList': 'Collaboration restrictions: "Deny invitations to the specified domains"',
  'b2bManagementPolicy.allowList': 'Collaboration restrictions: "Allow invitations only to the specified domains"',
  'sharePoint.sharingCapability': 'SharePoint external sharing level',
  'sharePoint.sharingBlockedDomainList': 'SharePoint "Limit external sharing by domain" (blocked domains)',
  'sharePoint.sharingAllowedDomainList': 'SharePoint "Limit external sharing by domain" (allowed domains)',
};

/** A blocking setting as a card names it: the admin center's name, then the machine name. */
export function blockingSettingTitle(setting: string): string {
  const title = SETTING_TITLES[setting];
  return title ? `${title} (${setting})` : setting;
}

/** The warning a blocked address gets: the first blocking setting, and who can change it. */
export function refusalWarning(emailDisplay: string, blocker: BlockingSetting): string {
  return `An invitation to ${emailDisplay} would be refused. To change this, ask ${blocker.whoCanChange}.`;
}

