import { type Activity, ActivityTypes, TurnContext } from 'botbuilder';
import type { DialogContext, DialogTurnResult, PromptValidatorContext, WaterfallStepContext } from 'botbuilder-dialogs';
import { ComponentDialog, TextPrompt, WaterfallDialog } from '../bot/dialogParts';
import { parseEmail } from '../../domain/email';
import { lookAlikeWarning } from '../../domain/lookAlike';
import type { Directory } from '../../usecases/ports/Directory';
import type { GroupInfo } from '../../domain/tenant';
import { quoteForChat } from '../../domain/text';
import type { InviteGuestService } from '../../usecases/invite/inviteGuest';
import type { InvitationRequest } from '../../usecases/invite/model';
import type { SignInAdvisorPort } from '../../usecases/signIn/signInAdvisor';
import { actorFromActivity } from '../bot/actor';
import { cardAttachment } from '../cards';
import type { Actor } from '../../domain/actor';
import { inviteConfirmCard } from './cards/inviteConfirmCard';
import { inviteResultCards } from './cards/inviteResultCard';
import { siteQuestionCard } from './cards/siteQuestionCard';
import { requesterCard } from '../approvals/cards/submittedCard';
import { confirmChoice, lookAlikeConfirmed, plain, siteAnswer, teamGroupId } from './inviteDialogTurn';
import {
  MAX_JUSTIFICATION,
  checkEmailForTenant,
  readEmailAnswer,
  readJustificationAnswer,
  readNameAnswer,
  readSiteAnswer,
  requestableSites,
} from './inviteValidators';

export const INVITE_GUEST_DIALOG = 'inviteGuest';
const WATERFALL = 'inviteGuest.steps';
const EMAIL_PROMPT = 'inviteGuest.email';
const NAME_PROMPT = 'inviteGuest.name';
const SITE_PROMPT = 'inviteGuest.site';
const CONFIRM_PROMPT = 'inviteGuest.confirm';
const JUSTIFICATION_PROMPT = 'inviteGuest.justification';

const ASK_EMAIL = "What is the guest's email address?";
const ASK_NAME = 'What name should they have in your organisation (for example "Jane Doe")?';
const ASK_CONFIRM = 'Please check the card and choose Confirm, Edit or Cancel.';
const ASK_JUSTIFICATION_AGAIN = `Type a short reason for the approver (up to ${MAX_JUSTIFICATION} characters), or "skip".`;

function askJustification(guestName: string, siteName: string): string {
  return `Why does ${quoteForChat(guestName)} need access to ${quoteForChat(siteName)}? The approver sees your answer. Type a short reason (up to ${MAX_JUSTIFICATION} characters), or "skip".`;
}

/** What a one-message request already said; anything missing is asked for. */
export interface InviteGuestOptions {
  email?: string;
  displayName?: string;
  /** A site named in the message ("… to Project Falcon"). */
  siteName?: string;
  groupId?: string;
}

interface InviteValues {
  starterId: string;
  email?: string;
  emailDisplay?: string;
  displayName?: string;
  groupId?: string;
  siteName?: string;
  sites?: GroupInfo[];
  needsApproval?: string | null;
}

export interface InviteDialogServices {
  service: InviteGuestService;
  advisor: SignInAdvisorPort;
  directory: Directory;
}

/**
 * The guided invitation: email, name and site (each validated by its prompt, re-asked with
 * the reason), a policy check, a confirmation card, then the invitation and its result cards.
 */
export class InviteGuestDialog extends ComponentDialog {
  constructor(private readonly services: InviteDialogServices) {
    super(INVITE_GUEST_DIALOG);
    this.addDialog(new TextPrompt(EMAIL_PROMPT, (p) => this.validateEmail(p)));
    this.addDialog(new TextPrompt(NAME_PROMPT, (p) => this.validateName(p)));
    this.addDialog(new TextPrompt(SITE_PROMPT, (p) => this.validateSite(p)));
    this.addDialog(new TextPrompt(CONFIRM_PROMPT, (p) => this.validateConfirm(p)));
    this.addDialog(new TextPrompt(JUSTIFICATION_PROMPT, (p) => this.validateJustification(p)));
    this.addDialog(
      new WaterfallDialog(WATERFALL, [
        (s) => this.emailStep(s),
        (s) => this.nameStep(s),
        (s) => this.siteStep(s),
        (s) => this.confirmStep(s),
        (s) => this.finalStep(s),
        (s) => this.approvalStep(s),
      ]),
    );
    this.initialDialogId = WATERFALL;
  }

  /** Used by the root dialog when the user says "help" mid-flow. */
  stepHelp(dc: DialogContext): string {
    const inner = (dc.activeDialog?.state as { dialogs?: { dialogStack?: Array<{ id: string }> } } | undefined)?.dialogs?.dialogStack;
    const current = inner?.[inner.length - 1]?.id;
    const intro = "I'm preparing a guest invitation. ";
    switch (current) {
      case EMAIL_PROMPT:
        return `${intro}Type the guest's email address, e.g. jane@fabrikam.com (or "Jane Doe <jane@fabrikam.com>"). Say cancel to stop.`;
      case NAME_PROMPT:
        return `${intro}Type the name the guest should have, e.g. Jane Doe (up to 256 characters). Say cancel to stop.`;
      case SITE_PROMPT:
        return `${intro}Pick the site (team) the guest should join: choose it on the card, or type its name or its number from the list. Say cancel to stop.`;
      case CONFIRM_PROMPT:
        return `${intro}Check the card: Confirm sends the invitation, Edit starts the details again, Cancel stops without sending anything.`;
      case JUSTIFICATION_PROMPT:
        return `${intro}This invitation needs an approver's decision. Tell them in a sentence why the guest needs access (up to ${MAX_JUSTIFICATION} characters), or say "skip" to send it without a reason. Say cancel to stop; nothing has been sent yet.`;
      default:
        return `${intro}Answer the question below, or say cancel to stop.`;
    }
  }

  // ---- steps ----

  private async emailStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const options = (step.options ?? {}) as InviteGuestOptions;
    const actor = actorFromActivity(step.context.activity);
    if (!actor) {
      await step.context.sendActivity("I can't tell who you are in this chat, so I can't invite anyone for you.");
      return step.endDialog();
    }
    const values = step.values as InviteValues;
    values.starterId = actor.userId;
    values.groupId = options.groupId ?? teamGroupId(step.context);
    values.siteName = options.siteName;
    if (options.displayName !== undefined) values.displayName = options.displayName;

    if (options.email !== undefined) {
      const reason = await this.emailProblem(options.email, values);
      if (reason === null) return step.next();
      await step.context.sendActivity(plain(`${reason} ${ASK_EMAIL}`));
      return step.prompt(EMAIL_PROMPT, {});
    }
    return step.prompt(EMAIL_PROMPT, { prompt: ASK_EMAIL });
  }

  private async nameStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const values = step.values as InviteValues;
    if (typeof step.result === 'string') await this.emailProblem(step.result, values);
    if (values.displayName !== undefined) {
      const name = readNameAnswer(values.displayName);
      if (name.ok) {
        values.displayName = name.value;
        return step.next();
      }
      delete values.displayName;
      await step.context.sendActivity(plain(`${name.reason} ${ASK_NAME}`));
      return step.prompt(NAME_PROMPT, {});
    }
    return step.prompt(NAME_PROMPT, { prompt: ASK_NAME });
  }

  private async siteStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const values = step.values as InviteValues;
    if (typeof step.result === 'string') {
      const name = readNameAnswer(step.result);
      if (name.ok) values.displayName = name.value;
    }
    const actor = actorFromActivity(step.context.activity) as Actor;
    if (values.groupId) {
      const group = await this.services.directory.getGroup(values.groupId);
      if (!group) {
        await step.context.sendActivity("I can't find this team's site in the directory, so I can't invite a guest to it.");
        return step.endDialog();
      }
      values.siteName = group.displayName;
      return step.next();
    }
    // With approvals on, a member may also ask for a guest on a site they belong to (an approver decides).
    const withApprovals = this.services.service.acceptsApprovalRequests;
    const sites = await requestableSites(this.services.directory, actor.userId, withApprovals);
    if (sites.length === 0) {
      await step.context.sendActivity(
        withApprovals
          ? "You don't own or belong to any team or SharePoint site I can invite a guest to. Ask the owner of the site you mean."
          : "You don't own any team or SharePoint site, and only a site's owners can invite guests to it. Ask the owner of the site, or ask me from the team's channel.",
      );
      return step.endDialog();
    }
    if (values.siteName !== undefined) {
      const picked = readSiteAnswer(values.siteName, sites);
      if (picked.ok) {
        values.groupId = picked.value.id;
        values.siteName = picked.value.displayName;
        return step.next();
      }
      await step.context.sendActivity(plain(picked.reason));
    } else if (sites.length === 1 && sites[0]) {
      values.groupId = sites[0].id;
      values.siteName = sites[0].displayName;
      return step.next();
    }
    // Kept only while the question is open: the next step reads the answer against it.
    values.sites = sites;
    return step.prompt(SITE_PROMPT, { prompt: siteQuestionActivity(sites), validations: { sites } });
  }

  private async confirmStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const values = step.values as InviteValues;
    if (values.sites) {
      const picked = siteAnswer(step.context, values.sites);
      if (picked.ok) {
        values.groupId = picked.value.id;
        values.siteName = picked.value.displayName;
      }
    }
    delete values.sites;
    const actor = actorFromActivity(step.context.activity) as Actor;
    const decision = await this.services.service.check(actor, this.draft(values));
    if (decision.kind === 'refused') {
      await step.context.sendActivity(plain(decision.refusal.message));
      return step.endDialog();
    }
    values.needsApproval = decision.kind === 'needsApproval' ? decision.reason : null;
    const parsed = parseEmail(values.email ?? '');
    const lookAlike = parsed.ok ? lookAlikeWarning(parsed.email) : null;
    await step.context.sendActivity({
      attachments: [
        inviteConfirmCard({
          displayName: values.displayName ?? '',
          email: values.emailDisplay ?? values.email ?? '',
          target: decision.target,
          advice: decision.advice,
          needsApproval: values.needsApproval,
          lookAlike,
          accessEnd: this.services.service.expectedAccessEnd(decision.target.groupId),
        }),
      ],
    });
    return step.prompt(CONFIRM_PROMPT, { validations: { starterId: values.starterId, lookAlikeAscii: lookAlike?.ascii ?? null } });
  }

  private async finalStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const values = step.values as InviteValues;
    const choice = confirmChoice(step.context);
    if (choice === 'cancel') {
      await step.context.sendActivity("OK, I haven't invited anyone.");
      return step.endDialog();
    }
    if (choice === 'edit') {
      await step.context.sendActivity("Let's go through the details again.");
      return step.replaceDialog(WATERFALL, {});
    }
    if (values.needsApproval) {
      // The approver decides on what the requester tells them: ask for it before anything is recorded.
      return step.prompt(JUSTIFICATION_PROMPT, {
        prompt: plain(askJustification(values.displayName ?? 'the guest', values.siteName ?? 'the site')),
        validations: { starterId: values.starterId },
      });
    }
    // Confirm: rights and policy are checked again by the use case, for whoever clicked now.
    const request = this.request(step);
    await step.context.sendActivity({ type: ActivityTypes.Typing });
    const outcome = await this.services.service.execute(request);
    if (outcome.status === 'failed' && !outcome.record) {
      await step.context.sendActivity(plain(outcome.refusal?.message ?? 'Nothing was changed.'));
      return step.endDialog({ outcome: outcome.status });
    }
    const policies = await this.services.directory.readPolicies();
    const cards = inviteResultCards(outcome, {
      guestName: values.displayName ?? '',
      guestEmail: values.emailDisplay ?? '',
      tenantName: policies.tenantDisplayName,
      tenantId: policies.tenantId,
      emailsInvitations: this.services.service.emailsInvitations,
      accessEnd: outcome.target ? this.services.service.expectedAccessEnd(outcome.target.groupId) : null,
    });
    await step.context.sendActivity({ attachments: cards });
    return step.endDialog({ outcome: outcome.status, recordId: outcome.record?.id ?? null });
  }

  /** Sends an approval-bound request with the requester's reason, and shows them where it went. */
  private async approvalStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const answer = readJustificationAnswer(typeof step.result === 'string' ? step.result : '');
    const justification = answer.ok ? answer.value : '';
    // Policy and rights are checked again by the use case for whoever answers now. The chat's
    // conversation id is the stored reference the approvals feature tells the requester through.
    const submitted = await this.services.service.submitForApproval(this.request(step), justification || undefined);
    if (!('requestId' in submitted)) {
      await step.context.sendActivity(plain(submitted.message));
      return step.endDialog({ outcome: 'refused' });
    }
    // The card says who has the request, who could not be reached and what happens next.
    const posted = await step.context.sendActivity({ attachments: [cardAttachment(requesterCard(submitted.card))] });
    if (posted?.id) {
      // Kept with the request's other copies: a decision, cancellation or expiry updates it too.
      const reference = TurnContext.getConversationReference(step.context.activity);
      this.services.service.requesterCardPosted(submitted.requestId, reference, posted.id);
    }
    return step.endDialog({
      outcome: submitted.duplicate ? 'alreadyWaitingForApproval' : 'sentForApproval',
      approvalRequestId: submitted.requestId,
    });
  }

  // ---- validators (they say why, with the question again, and the prompt waits) ----

  private async validateEmail(prompt: PromptValidatorContext<string>): Promise<boolean> {
    const text = prompt.recognized.value ?? '';
    const reason = await this.emailProblem(text, { starterId: '' });
    if (reason === null) return true;
    await prompt.context.sendActivity(plain(`${reason} ${ASK_EMAIL}`));
    return false;
  }

  private async validateName(prompt: PromptValidatorContext<string>): Promise<boolean> {
    const r = readNameAnswer(prompt.recognized.value ?? '');
    if (r.ok) return true;
    await prompt.context.sendActivity(plain(`${r.reason} ${ASK_NAME}`));
    return false;
  }

  private async validateSite(prompt: PromptValidatorContext<string>): Promise<boolean> {
    const sites = (prompt.options.validations as { sites?: GroupInfo[] } | undefined)?.sites ?? [];
    const r = siteAnswer(prompt.context, sites);
    if (r.ok) return true;
    await prompt.context.sendActivity(plain(r.reason));
    await prompt.context.sendActivity(siteQuestionActivity(sites));
    return false;
  }

  private async validateConfirm(prompt: PromptValidatorContext<string>): Promise<boolean> {
    const starterId = (prompt.options.validations as { starterId?: string } | undefined)?.starterId;
    const actor = actorFromActivity(prompt.context.activity);
    if (starterId && actor?.userId !== starterId) {
      await prompt.context.sendActivity('Only the person who started this invitation can confirm it.');
      return false;
    }
    const choice = confirmChoice(prompt.context);
    const lookAlikeAscii = (prompt.options.validations as { lookAlikeAscii?: string | null } | undefined)?.lookAlikeAscii;
    if (choice === 'confirm' && lookAlikeAscii && !lookAlikeConfirmed(prompt.context)) {
      // A look-alike address is only sent once the owner has ticked that they checked its ASCII form.
      await prompt.context.sendActivity(
        plain(`Before I send this, check the address: Entra will invite ${lookAlikeAscii}. If that is the address you mean, tick "I checked the address" on the card and press Confirm again; otherwise press Edit.`),
      );
      return false;
    }
    if (choice !== null) return true;
    await prompt.context.sendActivity(ASK_CONFIRM);
    return false;
  }

  private async validateJustification(prompt: PromptValidatorContext<string>): Promise<boolean> {
    const starterId = (prompt.options.validations as { starterId?: string } | undefined)?.starterId;
    const actor = actorFromActivity(prompt.context.activity);
    if (starterId && actor?.userId !== starterId) {
      await prompt.context.sendActivity('Only the person who started this invitation can give the reason for it.');
      return false;
    }
    // A second click on the confirmation card (no text) is not an answer.
    if (typeof prompt.context.activity.text !== 'string' || prompt.context.activity.text.trim() === '') {
      await prompt.context.sendActivity(plain(ASK_JUSTIFICATION_AGAIN));
      return false;
    }
    const r = readJustificationAnswer(prompt.recognized.value ?? '');
    if (r.ok) return true;
    await prompt.context.sendActivity(plain(`${r.reason} ${ASK_JUSTIFICATION_AGAIN}`));
    return false;
  }

  // ---- helpers ----

  /** The request as it stands, for whoever acts in this turn, reporting back to this chat. */
  private request(step: WaterfallStepContext): InvitationRequest {
    const values = step.values as InviteValues;
    return {
      ...this.draft(values),
      requestedBy: actorFromActivity(step.context.activity) as Actor,
      conversationRefKey: step.context.activity.conversation?.id ?? null,
      source: 'chat',
    };
  }

  /** Parses and checks an address; on success stores it in values and returns null, else the reason. */
  private async emailProblem(text: string, values: InviteValues): Promise<string | null> {
    const read = readEmailAnswer(text);
    if (!read.ok) return read.reason;
    const checked = await checkEmailForTenant(read.value.email, this.services.advisor);
    if (!checked.ok) return checked.reason;
    values.email = read.value.email.address;
    values.emailDisplay = read.value.email.display;
    if (read.value.displayName && values.displayName === undefined) values.displayName = read.value.displayName;
    return null;
  }

  private draft(values: InviteValues): { email: string; displayName: string; groupId: string } {
    return { email: values.email ?? '', displayName: values.displayName ?? '', groupId: values.groupId ?? '' };
  }
}
function siteQuestionActivity(sites: readonly GroupInfo[]): Partial<Activity> {
  return { type: ActivityTypes.Message, attachments: [cardAttachment(siteQuestionCard(sites))] };
}
