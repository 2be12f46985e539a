/**
 * Policy before anything is sent: the address and name, the site, the tenant's invitation and
 * sharing settings, blocked domains, and the requester's rights (ownership, or an approver's
 * decision).
 */
import type { Actor } from '../../domain/actor';
import { InvalidEmailError, parseEmail, type EmailAddress } from '../../domain/email';
import type { SignInAdvice } from '../../domain/signInAdvice';
import { blockingSettings } from '../../domain/tenantSettingRules';
import { isDirectoryError } from '../ports/Directory';
import type { InviteContext } from './inviteContext';
import type { InviteDraft, InviteTarget, PolicyDecision, Refusal } from './model';
import { blockedRefusal, capitalise, ENTRA_ADMIN, notOwnerRefusal, refusalFromError, validateDisplayName } from './refusals';

export interface Evaluation {
  decision: PolicyDecision;
  email: EmailAddress | null;
  displayName: string;
}

export async function evaluateInvitation(ctx: InviteContext, actor: Actor, draft: InviteDraft, approved: boolean): Promise<Evaluation> {
  const refuse = (refusal: Refusal, advice: SignInAdvice | null = null, email: EmailAddress | null = null): Evaluation => ({
    decision: { kind: 'refused', refusal, advice },
    email,
    displayName: draft.displayName,
  });
  const parsed = parseEmail(draft.email);
  if (!parsed.ok) return refuse({ code: 'invalidEmail', message: `${parsed.reason}.`, setting: null, whoCanChange: null });
  const email = parsed.email;
  const name = validateDisplayName(draft.displayName);
  if (!name.ok) return refuse({ code: 'invalidName', message: `${capitalise(name.reason)}.`, setting: null, whoCanChange: null }, null, email);

  try {
    const directory = ctx.deps.directory;
    const group = await ctx.retrying(() => directory.getGroup(draft.groupId));
    if (!group) {
      return refuse({ code: 'unknownSite', message: 'I could not find that site.', setting: null, whoCanChange: null }, null, email);
    }
    if (!group.siteUrl || !/^https:\/\//i.test(group.siteUrl)) {
      return refuse(
        { code: 'unknownSite', message: `${group.displayName} has no SharePoint site to invite a guest to.`, setting: null, whoCanChange: null },
        null,
        email,
      );
    }
    const target: InviteTarget = { groupId: group.id, siteName: group.displayName, siteUrl: group.siteUrl };
    const advice = await ctx.deps.advisor.advise(email.address);
    const policies = await ctx.retrying(() => directory.readPolicies());

    if (advice.subject === 'internalUser' && !advice.existing) {
      return refuse(
        {
          code: 'internalAddressUnknown',
          message: `${email.display} is an address in your own organisation (${email.displayDomain}), and nobody there has it. Guests are people outside ${policies.tenantDisplayName}.`,
          setting: null,
          whoCanChange: null,
        },
        advice,
        email,
      );
    }
    if (advice.subject === 'blocked' && advice.blockedBy) {
      return refuse(blockedRefusal(advice.blockedBy.setting, advice.blockedBy.explanation, advice.blockedBy.whoCanChange), advice, email);
    }
    // The advisor may hold policies for a few minutes; the ones just read decide (e.g. a domain
    // blocked since a failed attempt, now retried).
    const freshBlock = advice.subject === 'newGuest' ? blockingSettings(email.domain, policies)[0] : undefined;
    if (freshBlock) {
      return refuse(blockedRefusal(freshBlock.setting, freshBlock.explanation, freshBlock.whoCanChange), advice, email);
    }
    const isGuest = advice.subject !== 'internalUser';
    const needsInvitation = advice.subject === 'newGuest' || (advice.subject === 'existingGuest' && advice.existing?.state !== 'Accepted');
    if (needsInvitation && policies.allowInvitesFrom !== 'adminsGuestInvitersAndAllMembers' && policies.allowInvitesFrom !== 'everyone') {
      return refuse(
        {
          code: 'invitesRestricted',
          message: `${policies.tenantDisplayName}'s guest invite settings (authorizationPolicy.allowInvitesFrom = ${policies.allowInvitesFrom}) do not let an app like this bot send invitations; it needs "Member users and users assigned to specific admin roles can invite guests" or more open.`,
          setting: 'authorizationPolicy.allowInvitesFrom',
          whoCanChange: ENTRA_ADMIN,
        },
        advice,
        email,
      );
    }
    if (isGuest && policies.sharePoint.sharingCapability === 'disabled') {
      return refuse(
        blockedRefusal(
          'sharePoint.sharingCapability',
          'SharePoint external sharing is turned off, so a guest could not open the site or its files.',
          'a SharePoint Administrator (SharePoint admin center → Policies → Sharing)',
          'sharingDisabled',
        ),
        advice,
        email,
      );
    }

    const isOwner = await ctx.retrying(() => directory.isOwner(group.id, actor.userId));
    if (approved) return { decision: { kind: 'allowed', target, advice, isOwner }, email, displayName: name.name };
    const gateway = ctx.deps.approvals;
    if (gateway) {
      const verdict = await gateway.needsApproval({ actor, email: email.address, domain: email.domain, target, isOwner, advice });
      if (verdict.required) {
        return { decision: { kind: 'needsApproval', target, advice, isOwner, reason: verdict.reason }, email, displayName: name.name };
      }
    }
    if (!isOwner) return refuse(notOwnerRefusal(group.displayName), advice, email);
    return { decision: { kind: 'allowed', target, advice, isOwner }, email, displayName: name.name };
  } catch (e) {
    if (e instanceof InvalidEmailError) {
      return refuse({ code: 'invalidEmail', message: `${e.userMessage}.`, setting: null, whoCanChange: null });
    }
    if (!isDirectoryError(e)) throw e;
    return refuse(refusalFromError(e, ctx.maxAttempts), null, email);
  }
}
