/**
 * When an invitation needs an approver's decision. Pure: the caller supplies the facts
 * (is the requester an owner of the target site, the guest's domain) and the settings.
 */

/** APPROVAL_POLICY: when an invitation waits for an approver. */
export type ApprovalPolicyName = 'nonOwners' | 'unlistedDomains' | 'always';

export interface ApprovalSettings {
  policy: ApprovalPolicyName;
  /** PARTNER_DOMAINS, lower-case. Only consulted by 'unlistedDomains'. */
  partnerDomains: readonly string[];
}

export interface InvitationCircumstances {
  /** The requester owns the site (Microsoft 365 group) the guest is invited into. */
  requesterIsSiteOwner: boolean;
  /** The guest's email domain. */
  guestDomain: string;
}

export type ApprovalReason = 'requesterNotOwner' | 'domainNotListed' | 'policyAlways';

export interface ApprovalVerdict {
  required: boolean;
  /** Why approval is required, in plain words for the requester and approvers; empty when not required. */
  reasons: string[];
  codes: ApprovalReason[];
}

/**
 * A domain is listed only by exact match: "eu.fabrikam.com" is not covered by "fabrikam.com",
 * because a subdomain can belong to a different organisation's mail system.
 */
export function isPartnerDomain(domain: string, partnerDomains: readonly string[]): boolean {
  const d = domain.trim().toLowerCase().replace(/\.$/, '');
  return partnerDomains.some((p) => p.toLowerCase() === d);
}

/** Said to the requester; approvers read it about the requester (see reasonForApprover). */
export const REQUESTER_NOT_OWNER = 'You are not an owner of this site, so an approver decides.';

/**
 * A stored reason as the approver should read it: reasons are written to the requester ("You are
 * not an owner…"); on an approver's card they are about the requester.
 */
export function reasonForApprover(reason: string, requesterName: string, siteName: string | null): string {
  if (reason === REQUESTER_NOT_OWNER) return `${requesterName} is not an owner of ${siteName ?? 'the site'}.`;
  return reason;
}

export function approvalVerdict(settings: ApprovalSettings, facts: InvitationCircumstances): ApprovalVerdict {
  const codes: ApprovalReason[] = [];
  const reasons: string[] = [];
  if (settings.policy === 'always') {
    codes.push('policyAlways');
    reasons.push('Every invitation in this organisation is approved by an admin.');
  }
  if (!facts.requesterIsSiteOwner) {
    codes.push('requesterNotOwner');
    reasons.push(REQUESTER_NOT_OWNER);
  }
  if (settings.policy === 'unlistedDomains' && !isPartnerDomain(facts.guestDomain, settings.partnerDomains)) {
    codes.push('domainNotListed');
    reasons.push(`${facts.guestDomain} is not on the list of partner domains.`);
  }
  return { required: codes.length > 0, reasons, codes };
}
