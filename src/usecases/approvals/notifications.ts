/**
 * What the approvals use case shows and sends, as data: the views of a request for approvers and
 * for the requester, and the notification port through which they are posted and updated. The
 * Teams layer (src/teams/approvals) renders the views as Adaptive Cards and implements the port
 * over proactive messaging; nothing here knows about cards, activities or conversation references.
 */
import type { SignInMethod } from '../../domain/signInAdvice';
import type { ApprovalRequest, ConversationAddress, Delivery, DeliveryAudience, NoticeTone } from './model';
import type { RecordedAccess } from '../invite/model';

/** A line above the request about what just happened (e.g. "You approved the request."). */
export interface Notice {
  text: string;
  tone?: NoticeTone;
}

/** The request as an approver (or the approvals channel) sees it. */
export interface ApproverView {
  kind: 'approver';
  request: ApprovalRequest;
  /** When the view is drawn (for "expires in …"). */
  now: Date;
  /** Approve / Reject / Ask buttons: the viewer may decide (and the request is pending). */
  showActions: boolean;
  notice: Notice | null;
  /** Warnings for approvers beyond the requester's own (look-alike address, resets disabled). */
  approverWarnings: string[];
  /** Entra object ids of the people who may decide it: their copies refresh by themselves. */
  refreshFor: string[];
  /** When the guest's access would end, and who becomes the sponsor (invitations, with the guest lifecycle). */
  access?: AccessTerms | null;
}

/** The access an invitation request gives: its end and its sponsor (the requester, never the approver). */
export interface AccessTerms {
  /** Null: no end (the site is set up without one). */
  endsAt: string | null;
  /** Not decided yet: the end counts from the day it is approved. */
  ifApprovedNow: boolean;
  sponsorName: string;
}

/** An approved, carried-out invitation as the requester sees it (as a direct invitation's result shows it). */
export interface ApprovedInvitation {
  /** The invitation link while the guest has not accepted; null once accepted. */
  redeemUrl: string | null;
  /** The invitation record (for "Send the invitation email"). */
  recordId: string | null;
  guestName: string;
  guestEmail: string;
  siteName: string;
  /** The bot sends Microsoft's invitation email itself (SEND_INVITATION_EMAIL). */
  emailsInvitations: boolean;
  /** The requester may ask the bot to send the invitation email. */
  canSendEmail: boolean;
  /** How the guest signs in (actual when known, else predicted). */
  method: SignInMethod | null;
  tenantDisplayName: string;
  /** The outcome succeeded (the guest is in the site). */
  succeeded: boolean;
  /** The guest's recorded access (its end), when the guest lifecycle recorded it. */
  access?: RecordedAccess | null;
}

/** The request as its requester sees it ("Sent for approval", then the decision). */
export interface RequesterView {
  kind: 'requester';
  request: ApprovalRequest;
  /** When the view is drawn (for "expires in …"). */
  now: Date;
  /** Who the request reached. */
  approvers: string[];
  /** Who could not be reached. */
  unreachable: string[];
  notice: Notice | null;
  /** The invitation or reset link, once an approval produced one. */
  redeemUrl: string | null;
  invitation: ApprovedInvitation | null;
  access?: AccessTerms | null;
}

export type ApprovalView = ApproverView | RequesterView;

/** How a post went: where it went (kept to update the copy later) and its message id, or why it failed. */
export type PostResult =
  | { ok: true; address: ConversationAddress; activityId: string | null }
  | { ok: false; address: ConversationAddress | null; error: string };

/** The chats the bot knows (stored conversation references), by id only. */
export interface ApprovalChats {
  /** The conversation id of the bot's personal chat with this person (Entra object id), if there is one. */
  personalChat(userId: string): Promise<string | null>;
  /** Whether the bot can post into this conversation (it has its reference). */
  isKnown(conversationId: string): Promise<boolean>;
}

/** Posts and updates approval cards. Failures are results, never exceptions. */
export interface ApprovalNotifier {
  /** Posts a view into a conversation the bot knows. */
  post(conversationId: string, view: ApprovalView): Promise<PostResult>;
  /** Replaces a posted copy in place with the view. */
  update(copy: Delivery, view: ApprovalView): Promise<{ ok: true } | { ok: false; error: string }>;
}

/** Who a copy of a new request goes to. */
export interface Recipient {
  id: string;
  displayName: string;
  audience: DeliveryAudience;
}

/** A conversation the bot just saw an activity in (its reference is stored already). */
export interface SeenConversation {
  conversationId: string;
  /** A one-to-one chat with the bot. */
  personal: boolean;
  /** The person's Entra object id (in a personal chat: whose chat it is). */
  userId: string | null;
  userName: string;
  tenantId: string | null;
}
