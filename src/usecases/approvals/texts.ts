/**
 * Plain-words texts the approvals use case answers with (what a late click is told, how a
 * sign-in method is named, dates in one fixed zone), and small helpers for input and logs.
 */
import type { SignInAdvice, SignInMethod } from '../../domain/signInAdvice';
import { isDirectoryError } from '../ports/Directory';
import type { ApprovalRequest } from './model';
import type { ActionOutcome } from './deciding';

const METHOD_LABELS: Record<SignInMethod, string> = {
  workOrSchoolAccount: 'Their work or school account (their organisation uses Microsoft Entra ID)',
  samlWsFedFederation: "Their organisation's own sign-in (SAML/WS-Fed federation)",
  googleFederation: 'Their Google account',
  microsoftAccount: 'A personal Microsoft account',
  emailOneTimePasscode: 'A one-time passcode sent by email (valid 30 minutes)',
  createMicrosoftAccount: 'They will be asked to create a Microsoft account',
};

export function signInMethodLabel(method: SignInMethod | null): string {
  return method ? METHOD_LABELS[method] : 'Not known yet';
}

// Built once: toLocale*String with options builds a new formatter on every call, which showed in
// the CPU profile of every approval card.
const DATE_FORMAT = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
const TIME_FORMAT = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hour12: false, timeZone: 'UTC' });

/** "15 Jan 2025, 09:00 UTC": one fixed zone, so every copy of a card says the same. */
export function formatInstant(iso: string): string {
  const d = new Date(iso);
  return `${DATE_FORMAT.format(d)}, ${TIME_FORMAT.format(d)} UTC`;
}

export function requestTitle(request: ApprovalRequest): string {
  return request.subject.kind === 'invitation'
    ? `Invite ${request.subject.guestName} to ${request.subject.siteName}`
    : `Reset the redemption of ${request.subject.guestName}`;
}

/** What a closed request's card says to someone who clicked too late. */
export function closedMessage(request: ApprovalRequest): string {
  const when = request.decidedAt ? ` on ${formatInstant(request.decidedAt)}` : '';
  switch (request.state) {
    case 'approved':
      return `${request.decidedBy?.name ?? 'Another approver'} already approved this request${when}. Nothing more was changed.`;
    case 'rejected':
      return `${request.decidedBy?.name ?? 'Another approver'} already rejected this request${when}. Nothing more was changed.`;
    case 'cancelled':
      return `${request.requester.name} cancelled this request${when}. Nothing was changed.`;
    case 'expired':
      return `This request expired${when} without a decision. Nothing was changed; the requester can ask again.`;
    case 'pending':
      return `"${requestTitle(request)}" is still waiting for a decision.`;
  }
}

/** What anyone who is neither an approver nor the requester is told about a request. */
export const NOT_AVAILABLE =
  'This approval request is not available to you. Only the guest approvers and the person who asked for it can open it.';

export function notFound(): ActionOutcome {
  return {
    status: 'notFound',
    request: null,
    mayDecide: false,
    message: 'I could not find that approval request. It may come from another installation of the bot. Nothing was changed.',
  };
}

export function adviceSummary(advice: SignInAdvice): string | null {
  if (!advice.method) return null;
  if (advice.confidence === 'depends' && advice.otherwise) {
    return `${signInMethodLabel(advice.method)} if they have one; otherwise ${signInMethodLabel(advice.otherwise).toLowerCase()}`;
  }
  return signInMethodLabel(advice.method);
}

export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function userMessageOf(error: unknown): string {
  if (isDirectoryError(error)) return error.userMessage;
  const refusal = (error as { refusal?: { message?: unknown } } | null)?.refusal;
  if (refusal && typeof refusal.message === 'string') return refusal.message;
  return 'an unexpected error (see the bot log).';
}

/** For logs: name and message only (never a request object, which could carry tokens). */
export function describe(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'unknown', message: String(error) };
}
