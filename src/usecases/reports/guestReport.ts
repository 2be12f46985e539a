/**
 * "guests report": the figures an approver asks for ("which outsiders can see our sites, who let
 * them in, are they still waiting?"), computed from the store's records. Pure: the records and
 * the time are handed in.
 */
import { accessStatus, DAY_MS, isActive, type LifecycleSettings } from '../../domain/lifecycle';
import { methodLabel } from '../../domain/signInWording';
import type { ApprovalRequest } from '../approvals/model';
import type { GuestAccessRecord } from '../lifecycle/ports';
import type { InvitationRecord } from '../ports/invitations';
import {
  INVITATIONS_WINDOW_DAYS,
  REPORT_STATES,
  REPORT_TOP_ROWS,
  UNREDEEMED_AFTER_DAYS,
  type Breakdown,
  type CountRow,
  type GuestReport,
  type ReportState,
  type UnredeemedGuest,
} from './model';

export const UNKNOWN_METHOD = 'unknown';

/** The report's state of one access record at `now`. */
export function reportState(settings: LifecycleSettings, access: GuestAccessRecord, now: Date): ReportState {
  return accessStatus(settings, access, now);
}

/**
 * How the guest signs in, as far as the records say: the method seen at redemption, else the one
 * advised at invitation ("expected"), else unknown. The invitation is the access's own record,
 * or the one for the same address and site.
 */
export function signInMethodOf(access: GuestAccessRecord, invitations: InvitationIndex): string {
  const invitation = invitations.forAccess(access);
  if (invitation?.actualMethod) return methodLabel(invitation.actualMethod);
  if (invitation?.predictedMethod) return `${methodLabel(invitation.predictedMethod)} (expected)`;
  return UNKNOWN_METHOD;
}

/** The tenant's invitation records, found by id or by address and site. */
export class InvitationIndex {
  private readonly byId = new Map<string, InvitationRecord>();
  private readonly byKey = new Map<string, InvitationRecord>();

  constructor(records: readonly InvitationRecord[]) {
    for (const r of records) {
      this.byId.set(r.id, r);
      this.byKey.set(keyOf(r.emailNormalised, r.groupId), r);
    }
  }

  forAccess(access: GuestAccessRecord): InvitationRecord | null {
    return (
      (access.invitationRecordId ? this.byId.get(access.invitationRecordId) : undefined) ??
      this.byKey.get(keyOf(access.emailNormalised, access.groupId)) ??
      null
    );
  }
}

const keyOf = (email: string, groupId: string): string => `${email.trim().toLowerCase()}|${groupId.toLowerCase()}`;

/** One thing counted: `key` tells apart two people (or sites) with the same name. */
export type Counted = string | { key: string; label: string };

/** Counts by key, largest first (then by label), the top rows kept and the rest summed. */
export function breakdown(items: Iterable<Counted>, top = REPORT_TOP_ROWS): Breakdown {
  const counts = new Map<string, CountRow>();
  let total = 0;
  for (const item of items) {
    const { key, label } = typeof item === 'string' ? { key: item, label: item } : item;
    const row = counts.get(key) ?? { label, count: 0 };
    row.count += 1;
    counts.set(key, row);
    total += 1;
  }
  const sorted: CountRow[] = [...counts.values()].sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
  const rows = sorted.slice(0, top);
  const rest = sorted.slice(top);
  return { rows, others: { rows: rest.length, count: rest.reduce((n, r) => n + r.count, 0) }, total };
}

export interface ReportInputs {
  access: readonly GuestAccessRecord[];
  /** The tenant's invitation records (any state). */
  invitations: readonly InvitationRecord[];
  pendingApprovals: readonly ApprovalRequest[];
}

export function computeGuestReport(inputs: ReportInputs, settings: LifecycleSettings, now: Date): GuestReport {
  const index = new InvitationIndex(inputs.invitations);
  const running = inputs.access.filter((a) => isActive(a.state));
  const byState = new Map<ReportState, number>(REPORT_STATES.map((s) => [s, 0]));
  for (const a of inputs.access) {
    const state = reportState(settings, a, now);
    byState.set(state, (byState.get(state) ?? 0) + 1);
  }

  const windowStart = now.getTime() - INVITATIONS_WINDOW_DAYS * DAY_MS;
  // An invitation that failed changed nothing in the directory: it is not an invitation sent.
  const recent = inputs.invitations.filter((r) => r.state !== 'failed' && Date.parse(r.createdAt) >= windowStart);

  const unredeemedCutoff = now.getTime() - UNREDEEMED_AFTER_DAYS * DAY_MS;
  const unredeemed: UnredeemedGuest[] = inputs.access
    .filter((a) => a.state === 'invited' && Date.parse(a.invitedAt) < unredeemedCutoff)
    .sort((a, b) => a.invitedAt.localeCompare(b.invitedAt))
    .map((a) => ({
      guestName: a.displayName,
      guestEmail: a.email,
      siteName: a.siteName,
      sponsorName: a.sponsor.name,
      invitedAt: a.invitedAt,
      daysWaiting: Math.floor((now.getTime() - Date.parse(a.invitedAt)) / DAY_MS),
    }));

  const pending = inputs.pendingApprovals;
  const oldest = pending.reduce<number | null>((min, r) => (min === null || Date.parse(r.createdAt) < min ? Date.parse(r.createdAt) : min), null);

  return {
    generatedAt: now.toISOString(),
    activeGuests: new Set(running.map((a) => a.userId)).size,
    activeAccess: running.length,
    byState: REPORT_STATES.map((state) => ({ state, count: byState.get(state) ?? 0 })),
    bySignInMethod: breakdown(running.map((a) => signInMethodOf(a, index))),
    bySite: breakdown(running.map((a) => ({ key: a.groupId.toLowerCase(), label: a.siteName }))),
    bySponsor: breakdown(running.map((a) => ({ key: a.sponsor.id, label: a.sponsor.name }))),
    pendingApprovals: {
      total: pending.length,
      invitations: pending.filter((r) => r.kind === 'invitation').length,
      resets: pending.filter((r) => r.kind === 'redemptionReset').length,
      oldestDays: oldest === null ? null : Math.floor((now.getTime() - oldest) / DAY_MS),
    },
    invitationsByOwner: { ...breakdown(recent.map((r) => ({ key: r.requestedBy.id, label: r.requestedBy.name }))), days: INVITATIONS_WINDOW_DAYS },
    unredeemed: { days: UNREDEEMED_AFTER_DAYS, total: unredeemed.length, oldest: unredeemed.slice(0, REPORT_TOP_ROWS) },
  };
}
