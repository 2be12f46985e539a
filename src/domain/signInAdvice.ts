import type { ExternalUserState } from './tenant';

/** How a guest signs in to this tenant (Entra B2B redemption outcome). */
export type SignInMethod =
  | 'workOrSchoolAccount' // a managed Entra tenant owns the guest's domain
  | 'samlWsFedFederation' // a SAML/WS-Fed identity provider is federated for the domain
  | 'googleFederation' // gmail.com / googlemail.com with Google federation configured
  | 'microsoftAccount' // a personal Microsoft account for the address
  | 'emailOneTimePasscode' // a code by email, valid 30 minutes, session 24 hours
  | 'createMicrosoftAccount'; // nothing else applies: the guest is asked to create an MSA

/** certain: decided by tenant facts; likely: a lookup failed or is stale; depends: on something unknowable in advance. */
export type AdviceConfidence = 'certain' | 'likely' | 'depends';

export type AdviceSubject = 'newGuest' | 'existingGuest' | 'internalUser' | 'blocked';

export interface BlockingSetting {
  /** Machine name of the setting, e.g. "b2bManagementPolicy.blockList", "sharePoint.sharingCapability". */
  setting: string;
  /** Plain-words explanation for chat. */
  explanation: string;
  /** Who can change it, e.g. "a Global or External Identity Provider administrator". */
  whoCanChange: string;
}

export interface SignInAdvice {
  /** Normalised (trimmed, lower-cased domain) address the advice is about. */
  email: string;
  domain: string;
  subject: AdviceSubject;
  /** The method Entra will use (or used); null for internal users and blocked addresses. */
  method: SignInMethod | null;
  /** With confidence 'depends': the method when the unknowable condition does not hold (e.g. no MSA ⇒ OTP). */
  otherwise: SignInMethod | null;
  confidence: AdviceConfidence;
  /** The facts that led to the answer, in plain words, in order. */
  reasons: string[];
  /** What the guest should do, in plain words. */
  guestNextSteps: string[];
  /** Tenant-context sign-in link (needed by one-time-passcode guests), when relevant. */
  tenantSignInUrl: string | null;
  /** Whether OneDrive B2B Sync can work for this guest (needs an Entra work/school account). */
  syncAvailable: boolean | 'depends';
  /** Things the inviter should know (e.g. "sync will not be available to this guest"). */
  warnings: string[];
  /** Present when subject is 'blocked'. */
  blockedBy: BlockingSetting | null;
  /**
   * An accepted guest whose sign-in provider this tenant has since turned off (Google federation
   * removed, one-time passcode disabled, federation gone): why they cannot sign in until an admin
   * resets their redemption. Absent or null otherwise.
   */
  redemptionResetNeeded?: string | null;
  /** Present when subject is 'existingGuest' (or an internal user found in the directory). */
  existing: {
    userId: string;
    displayName: string;
    state: ExternalUserState;
    stateChangedAt: string | null;
    /** How they actually redeemed, from `identities`; null while pending. */
    redeemedWith: SignInMethod | null;
  } | null;
}
