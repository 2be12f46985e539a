/**
 * Reports and exports for approvers. Every request re-checks, with the directory, that the person
 * is in the approver group now (the group the approvals feature asks); anyone else, guests
 * included, gets a refusal and no figures. Exports are handed out as the bulk results file is: a
 * signed link for that person, expiring after RESULTS_LINK_TTL_MINUTES; opening it checks the
 * approver standing again and makes the file then, from the store.
 */
import type { Readable } from 'node:stream';
import type { Actor } from '../../domain/actor';
import type { ResultsLinkClaims } from '../bulk/resultsLink';
import { trimEndChars } from '../../domain/text';
import { MAX_TENANT_ACCESS_LIST } from '../lifecycle/ports';
import type { InvitationRecord, InvitationState } from '../ports/invitations';
import { auditExportStream, guestExportStream } from './exportFiles';
import { auditPeriodBounds, dayOf, parseDay } from './exportPeriod';
import { computeGuestReport } from './guestReport';
import type { ExportRequest, GuestReport, ReportRefusal, ReportsDeps } from './model';

const ALL_INVITATION_STATES: readonly InvitationState[] = ['pending', 'invited', 'completed', 'partial', 'failed'];

export const NOT_APPROVER = 'Guest reports and exports are for members of the guest approver group. Ask one of them, or an admin, if you need these figures.';
const UNKNOWN_USER = "I couldn't tell who you are in this chat (Teams did not say which Microsoft Entra user sent it), so I can't show reports.";
/** The actor name of an export download: the link names the person it was issued to by id only. */
const EXPORT_LINK_HOLDER = '(export link)';
const UNAVAILABLE = "I couldn't check your approver rights just now, so I'm not showing the report. Try again in a minute.";

/** The results-link id of an export: 'export:guests' or 'export:audit:<from>:<to>' (never a bulk job's id, which is a UUID). */
export function exportFileId(request: ExportRequest): string {
  return request.kind === 'guests' ? 'export:guests' : `export:audit:${request.fromDay}:${request.toDay}`;
}

export function parseExportFileId(id: string): ExportRequest | null {
  if (id === 'export:guests') return { kind: 'guests' };
  const m = /^export:audit:(\d{4}-\d{2}-\d{2}):(\d{4}-\d{2}-\d{2})$/.exec(id);
  if (!m || !parseDay(m[1] as string) || !parseDay(m[2] as string)) return null;
  return { kind: 'audit', fromDay: m[1] as string, toDay: m[2] as string };
}

export const isExportFileId = (id: string): boolean => id.startsWith('export:');

/** Where export links point (the Teams layer serves it): the token in the query, as for bulk results. */
export const EXPORT_ROUTE = '/exports/file';

export function exportUrl(publicBaseUrl: string, token: string): string {
  return `${trimEndChars(publicBaseUrl, '/')}${EXPORT_ROUTE}?t=${encodeURIComponent(token)}`;
}

export function exportFileName(request: ExportRequest, now: Date): string {
  return request.kind === 'guests' ? `guests-${dayOf(now)}.csv` : `audit-${request.fromDay}-to-${request.toDay}.csv`;
}

export interface ExportLink {
  kind: 'link';
  request: ExportRequest;
  url: string;
  fileName: string;
  expiresInMinutes: number;
}

export interface ExportFile {
  fileName: string;
  stream: Readable;
}

export class ReportsService {
  constructor(private readonly deps: ReportsDeps) {}

  /** null when the person may have reports; else why not. */
  private async refusal(actor: Actor | null, what: string): Promise<ReportRefusal | null> {
    if (!actor) return { kind: 'refused', reason: 'unknownUser', message: UNKNOWN_USER };
    let approver: boolean;
    try {
      approver = await this.deps.rights.isApprover(actor.userId);
    } catch (error) {
      this.deps.logger?.warn({ err: error instanceof Error ? error.name : 'failed' }, 'reports: approver check failed');
      return { kind: 'refused', reason: 'unavailable', message: UNAVAILABLE };
    }
    if (approver) return null;
    // Somebody outside the approver group asked for the tenant's guests: on the record.
    await this.audit(actor, 'report.refused', 'report', what, { attempted: what === 'guests' ? 'report' : 'export', reason: 'notApprover' });
    return { kind: 'refused', reason: 'notApprover', message: NOT_APPROVER };
  }

  private async audit(actor: Actor, action: string, subjectType: string, subjectId: string, details: Record<string, string | number | boolean | null>): Promise<void> {
    try {
      await this.deps.audit.append({ actorId: actor.userId, actorName: actor.name, action, subjectType, subjectId, details });
    } catch (error) {
      this.deps.logger?.warn({ action, err: error instanceof Error ? error.name : 'failed' }, 'reports: audit event not recorded');
    }
  }

  private async tenantInvitations(tenantId: string): Promise<InvitationRecord[]> {
    const all = await this.deps.invitations.listByState(ALL_INVITATION_STATES, { limit: MAX_TENANT_ACCESS_LIST });
    return all.filter((r) => r.tenantId === tenantId);
  }

  async guestReport(actor: Actor | null): Promise<{ kind: 'report'; report: GuestReport } | ReportRefusal> {
    const refused = await this.refusal(actor, 'guests');
    if (refused || !actor) return refused ?? { kind: 'refused', reason: 'unknownUser', message: UNKNOWN_USER };
    const [access, invitations, pending] = await Promise.all([
      this.deps.access.listByTenant(actor.tenantId),
      this.tenantInvitations(actor.tenantId),
      this.deps.approvals.listPending(actor.tenantId),
    ]);
    const report = computeGuestReport({ access, invitations, pendingApprovals: pending }, this.deps.settings.lifecycle, this.deps.clock.now());
    this.deps.logger?.info({ access: access.length }, 'guest report shown');
    return { kind: 'report', report };
  }

  /** A link to the export for this approver (the caller shows it only in a personal chat). */
  async exportLink(actor: Actor | null, request: ExportRequest): Promise<ExportLink | ReportRefusal> {
    const fileId = exportFileId(request);
    const refused = await this.refusal(actor, fileId);
    if (refused || !actor) return refused ?? { kind: 'refused', reason: 'unknownUser', message: UNKNOWN_USER };
    const { linkTtlMs, publicBaseUrl } = this.deps.settings;
    const signer = await this.deps.signer();
    const token = signer.sign({ jobId: fileId, userId: actor.userId, tenantId: actor.tenantId, approver: true }, linkTtlMs);
    await this.audit(actor, 'export.linkIssued', 'export', fileId, { expiresInMinutes: Math.round(linkTtlMs / 60_000) });
    return {
      kind: 'link',
      request,
      url: exportUrl(publicBaseUrl, token),
      fileName: exportFileName(request, this.deps.clock.now()),
      expiresInMinutes: Math.round(linkTtlMs / 60_000),
    };
  }

  /**
   * The file a verified link names, made now, or null when it names no export or its holder is
   * no longer an approver (the route answers 403 without saying which). A holder who is no longer
   * an approver is on the record (report.refused, attempted 'download'), under the id the link was
   * issued to (the route cannot tell who holds the link); a directory that could not answer is no
   * refusal (still 403, not recorded).
   */
  async openExport(claims: ResultsLinkClaims): Promise<ExportFile | null> {
    const request = parseExportFileId(claims.jobId);
    if (!request) return null;
    const holder = { userId: claims.userId, name: EXPORT_LINK_HOLDER, tenantId: claims.tenantId };
    let approver = false;
    if (claims.approver) {
      try {
        approver = await this.deps.rights.isApprover(claims.userId);
      } catch (error) {
        this.deps.logger?.warn({ err: error instanceof Error ? error.name : 'failed' }, 'reports: approver check failed at download');
        return null;
      }
    }
    if (!approver) {
      await this.audit(holder, 'report.refused', 'report', claims.jobId, { attempted: 'download', reason: 'notApprover' });
      return null;
    }
    const now = this.deps.clock.now();
    await this.audit(holder, 'export.downloaded', 'export', claims.jobId, {});
    if (request.kind === 'guests') {
      const [access, invitations] = await Promise.all([this.deps.access.listByTenant(claims.tenantId), this.tenantInvitations(claims.tenantId)]);
      return { fileName: exportFileName(request, now), stream: guestExportStream(access, invitations, this.deps.settings.lifecycle, now) };
    }
    const { from, to } = auditPeriodBounds(request);
    return { fileName: exportFileName(request, now), stream: auditExportStream(this.deps.audit, from, to) };
  }
}
