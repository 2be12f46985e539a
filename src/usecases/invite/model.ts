/** The invite use case's vocabulary: what is asked, what policy decides, what became of it. */
import type { Actor } from '../../domain/actor';
import type { SignInAdvice, SignInMethod } from '../../domain/signInAdvice';
import type { InvitationOutcomeKind, InvitationRecord } from '../ports/invitations';
import type { AccessNote } from './accessRecording';
import type { GuestAccessState } from '../../domain/lifecycle';

/** What someone asks for: invite this person to this site. */
export interface InviteDraft {
  email: string;
  displayName: string;
  groupId: string;
}

/** The site a guest is invited to (a Microsoft 365 group and its SharePoint site). */
export interface InviteTarget {
  groupId: string;
  siteName: string;
  siteUrl: string;
}

export type RefusalCode =
  | 'invalidEmail'
  | 'invalidName'
  | 'internalAddressUnknown'
  | 'unknownSite'
  | 'notOwner'
  | 'blocked'
  | 'invitesRestricted'
  | 'sharingDisabled'
  | 'permissionMissing'
  | 'throttled'
  | 'directoryUnavailable'
  | 'approvalRequired';

export interface Refusal {
  code: RefusalCode;
  /** Plain words for chat: what is wrong and what to do. */
  message: string;
  /** The setting that refuses it, e.g. "authorizationPolicy.allowInvitesFrom"; null for bad input. */
  setting: string | null;
  /** Who can change that setting. */
  whoCanChange: string | null;
}

export type PolicyDecision =
  | { kind: 'allowed'; target: InviteTarget; advice: SignInAdvice; isOwner: boolean }
  | { kind: 'needsApproval'; target: InviteTarget; advice: SignInAdvice; isOwner: boolean; reason: string }
  | { kind: 'refused'; refusal: Refusal; advice: SignInAdvice | null };

/** A request to carry out. The requester is re-checked unless an approval authorises it. */
export interface InvitationRequest extends InviteDraft {
  requestedBy: Actor;
  /** Stored conversation reference key to report back to, if any. */
  conversationRefKey?: string | null;
  /** 'chat', 'approval', 'bulk:<jobId>' … recorded on the record and in the audit trail. */
  source?: string;
  /** Set by the approvals feature: the ownership check is replaced by this decision (policy is still checked). */
  approval?: { requestId: string; approvedBy: { id: string; name: string } };
  /**
   * An end of access asked for explicitly, in its stored form (`2027-05-30`, or `90d` counted from
   * when the invitation is made): a bulk row's own, carried through an approval. Kept within the
   * site's period by the guest lifecycle; absent: the site's period.
   */
  accessEnd?: string;
}

/** Where the guest stands after execute / retryMembership. */
export interface InviteOutcome {
  /**
   * completed  guest (or member) is in the group;
   * partial    invited/found, but adding to the group failed (retry with retryMembership);
   * failed     nothing changed; refusal says why;
   * inProgress another attempt for the same key is in flight (another process): nothing done here.
   */
  status: 'completed' | 'partial' | 'failed' | 'inProgress';
  kind: InvitationOutcomeKind | null;
  record: InvitationRecord | null;
  /** A redeem link to hand to the guest: new guests, and existing guests who have not redeemed yet. */
  redeemUrl: string | null;
  /** True when an earlier request had already done this (double click, second owner, retry). */
  alreadyDone: boolean;
  /** True when an earlier request had done this but the guest was removed from the group since: they were added back, with no new invitation. */
  membershipRestored?: boolean;
  /** Present for 'failed' and 'partial'. */
  refusal: Refusal | null;
  /** The guest's access as recorded by the guest lifecycle (its end date), for a guest now in the group. */
  access?: AccessNote | null;
  advice: SignInAdvice | null;
  target: InviteTarget | null;
}

/** A record with its state freshly read from the directory, for "status of …" / "my invitations". */
export interface InvitationStatusView {
  record: InvitationRecord;
  /** Graph externalUserState, when the user exists. */
  externalUserState: 'PendingAcceptance' | 'Accepted' | null;
  externalUserStateChangedAt: string | null;
  actualMethod: SignInMethod | null;
  /** The guest's recorded access to the site (the guest lifecycle's): its end and sponsor; null when none is recorded. */
  access?: RecordedAccess | null;
}

/** What the invite cards show of a recorded access. */
export interface RecordedAccess {
  endsAt: string | null;
  state: GuestAccessState;
  sponsorName: string;
}
