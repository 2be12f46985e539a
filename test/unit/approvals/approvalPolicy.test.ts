import { approvalVerdict, isPartnerDomain, type ApprovalSettings } from '../../../src/domain/approvalPolicy';

const settings = (policy: ApprovalSettings['policy'], partnerDomains: string[] = []): ApprovalSettings => ({ policy, partnerDomains });

describe('when an invitation needs an approver', () => {
  it.each([
    // policy, requester owns the site, guest domain, partner domains, approval needed
    ['nonOwners', true, 'fabrikam.com', [], false],
    ['nonOwners', false, 'fabrikam.com', [], true],
    ['unlistedDomains', true, 'fabrikam.com', ['fabrikam.com'], false],
    ['unlistedDomains', true, 'outlook.com', ['fabrikam.com'], true],
    ['unlistedDomains', false, 'fabrikam.com', ['fabrikam.com'], true],
    ['always', true, 'fabrikam.com', ['fabrikam.com'], true],
  ] as const)('%s: owner=%s, %s (partners %j) → approval %s', (policy, owner, domain, partners, expected) => {
    const verdict = approvalVerdict(settings(policy, [...partners]), { requesterIsSiteOwner: owner, guestDomain: domain });
    expect(verdict.required).toBe(expected);
    expect(verdict.reasons.length > 0).toBe(expected);
  });

  it('explains to a member why their invitation goes to an approver', () => {
    const verdict = approvalVerdict(settings('nonOwners'), { requesterIsSiteOwner: false, guestDomain: 'fabrikam.com' });
    expect(verdict.reasons.join(' ')).toMatch(/not an owner of this site/);
    expect(verdict.codes).toEqual(['requesterNotOwner']);
  });

  it('names the unlisted domain', () => {
    const verdict = approvalVerdict(settings('unlistedDomains', ['fabrikam.com']), {
      requesterIsSiteOwner: true,
      guestDomain: 'wingtiptoys.com',
    });
    expect(verdict.reasons.join(' ')).toContain('wingtiptoys.com is not on the list of partner domains');
  });

  it('matches partner domains exactly and case-insensitively, not their subdomains', () => {
    expect(isPartnerDomain('Fabrikam.COM', ['fabrikam.com'])).toBe(true);
    expect(isPartnerDomain('eu.fabrikam.com', ['fabrikam.com'])).toBe(false);
    expect(isPartnerDomain('notfabrikam.com', ['fabrikam.com'])).toBe(false);
  });
});
