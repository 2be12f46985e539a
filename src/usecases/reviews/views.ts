import { assessInactivity, latestSignIn, type SignInEvidence } from '../../domain/inactivity';
import { MAX_REVIEW_ROWS, type ReviewDeps } from './model';
import type { ReviewGuestRow, ReviewRound, ReviewView, ReviewedGuest } from './ports';
import { undecided } from './rounds';

/**
 * What a review card shows, read now: each guest's sponsor, dates, sign-in method and last
 * sign-in as they are at this moment (a card shown after a click is fresh), with the inactivity
 * verdict. When the directory cannot give sign-ins (no AuditLog.Read.All, no Entra ID P1), it is
 * asked once, and every guest's last sign-in is "unknown": nobody is flagged.
 */
export async function reviewView(deps: Pick<ReviewDeps, 'access' | 'directory' | 'clock' | 'settings'>, round: ReviewRound, viewer: { as: 'owner' | 'approver' }): Promise<ReviewView> {
  const open = new Set(undecided(round).map((g) => g.userId.toLowerCase()));
  // Undecided first (what the reviewer has to do), each part in the round's order (by name).
  const ordered = [...round.guests.filter((g) => open.has(g.userId.toLowerCase())), ...round.guests.filter((g) => !open.has(g.userId.toLowerCase()))];
  const shown = ordered.slice(0, MAX_REVIEW_ROWS);
  let unavailable: 'permissionMissing' | 'licenceMissing' | null = null;
  const rows: ReviewGuestRow[] = [];
  for (const guest of shown) {
    let evidence: SignInEvidence | null;
    if (unavailable) {
      evidence = { kind: 'unavailable', reason: unavailable };
    } else {
      evidence = await deps.directory.signIns(guest.userId);
      if (evidence?.kind === 'unavailable') unavailable = evidence.reason;
    }
    rows.push(await row(deps, round, guest, evidence));
  }
  return {
    roundId: round.id,
    siteName: round.siteName,
    siteUrl: round.siteUrl,
    trigger: round.trigger,
    startedAt: round.startedAt,
    escalateAt: round.escalateAt,
    escalated: round.escalatedAt !== null,
    viewer,
    rows,
    more: ordered.length - shown.length,
    undecided: open.size,
    signInsUnavailable: unavailable,
    inactiveDays: deps.settings.inactivity.inactiveDays,
    completedAt: round.completedAt,
  };
}

async function row(
  deps: Pick<ReviewDeps, 'access' | 'directory' | 'clock' | 'settings'>,
  round: ReviewRound,
  guest: ReviewedGuest,
  evidence: SignInEvidence | null,
): Promise<ReviewGuestRow> {
  const decision = round.decisions.find((d) => d.userId.toLowerCase() === guest.userId.toLowerCase()) ?? null;
  const record = guest.accessId ? await deps.access.get(guest.accessId) : null;
  const account = await deps.directory.guestAccount(guest.userId);
  let sponsor = record?.sponsor.name ?? null;
  if (!record && account) {
    const sponsors = await deps.directory.sponsorsOf(guest.userId);
    sponsor = sponsors.length > 0 ? sponsors.map((s) => s.displayName).join(', ') : null;
  }
  const invitedAt = record?.invitedAt ?? account?.invitedAt ?? null;
  const acceptedAt = record?.acceptedAt ?? account?.acceptedAt ?? null;
  const redeemed = account ? account.redeemed : record ? record.state === 'accepted' : false;
  const signIns: SignInEvidence = evidence ?? { kind: 'known', times: { lastSignInDateTime: null, lastNonInteractiveSignInDateTime: null, lastSuccessfulSignInDateTime: null } };
  const activity = assessInactivity(
    deps.settings.inactivity,
    { userId: guest.userId, email: guest.email, invitedAt, acceptedAt, redeemed, signIns },
    deps.clock.now(),
  );
  return {
    userId: guest.userId,
    name: account?.displayName ?? guest.displayName,
    email: guest.email,
    tracked: guest.accessId !== null,
    sponsor,
    invitedAt,
    acceptedAt,
    endsAt: record?.endsAt ?? null,
    signInMethod: account?.signInMethod ?? null,
    lastSignInAt: signIns.kind === 'known' ? (latestSignIn(signIns.times)?.at ?? null) : null,
    activity,
    inactive: activity.status === 'inactive',
    decision,
  };
}
