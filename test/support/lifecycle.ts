/** A guest lifecycle over a memory (or SQLite) store, a fake directory slice and a recording notifier. */
import { openMemoryStore } from '../../src/adapters/memory/store';
import type { Store } from '../../src/adapters/repositories';
import { SqliteHolderRegistry } from '../../src/adapters/sqlite/leases';
import { sqliteDatabaseOf } from '../../src/adapters/sqlite/store';
import type { ApprovalSettings } from '../../src/domain/approvalPolicy';
import { DAY_MS, DEFAULT_LIFECYCLE_SETTINGS, type LifecycleSettings } from '../../src/domain/lifecycle';
import type { UserSummary } from '../../src/domain/tenant';
import { DirectoryError } from '../../src/usecases/ports/Directory';
import { createGuestLifecycle, type GuestLifecycle } from '../../src/usecases/lifecycle/guestLifecycle';
import type { LifecycleDeps } from '../../src/usecases/lifecycle/model';
import type {
  Delivery,
  GuestAccountFacts,
  GuestAccounts,
  LifecycleNotifier,
  NoticeRecipient,
  RenewalApprovalRequest,
  RenewalApprovals,
} from '../../src/usecases/lifecycle/ports';
import type { RecordAccessInput } from '../../src/usecases/lifecycle/recordAccess';
import { ScheduledWorkRunner } from '../../src/usecases/scheduling/workRunner';
import { manualClock, memoryStore, tempStore, type ManualClock } from './store';

interface FakeUser {
  displayName: string;
  enabled: boolean;
  state: 'PendingAcceptance' | 'Accepted' | null;
  changedAt: string | null;
  memberOf: Set<string>;
  sponsors: Set<string>;
}

type Operation = keyof GuestAccounts;

/** The lifecycle's slice of a tenant, in memory, counting every write. */
export class FakeGuestAccounts implements GuestAccounts {
  readonly users = new Map<string, FakeUser>();
  readonly owners = new Map<string, UserSummary[]>();
  /** Every write, in order: 'removeFromGroup:falcon:u-jane', 'disableSignIn:u-jane' … */
  readonly writes: string[] = [];
  /** Operations the app has no permission for (DirectoryError 'permissionMissing'). */
  readonly denied = new Set<Operation>();
  /** One-shot failures, or hooks run before an operation (to hang it, for a crash). */
  readonly before = new Map<Operation, () => Promise<void>>();
  private links = 0;

  addUser(id: string, user: Partial<FakeUser> & { displayName: string }): void {
    this.users.set(id, { enabled: true, state: null, changedAt: null, memberOf: new Set(), sponsors: new Set(), ...user });
  }

  addGuest(id: string, displayName: string, groups: string[], state: 'PendingAcceptance' | 'Accepted' = 'PendingAcceptance'): void {
    this.addUser(id, { displayName, state, memberOf: new Set(groups) });
  }

  accept(id: string, at: string): void {
    const u = this.user(id);
    u.state = 'Accepted';
    u.changedAt = at;
  }

  private user(id: string): FakeUser {
    const u = this.users.get(id);
    if (!u) throw new DirectoryError('notFound', 'not found');
    return u;
  }

  private async gate(op: Operation): Promise<void> {
    const hook = this.before.get(op);
    if (hook) {
      this.before.delete(op);
      await hook();
    }
    if (this.denied.has(op)) throw new DirectoryError('permissionMissing', 'The app lacks a permission.', { permission: 'User.ReadWrite.All' });
  }

  async lifecycleFacts(userId: string): Promise<GuestAccountFacts | null> {
    await this.gate('lifecycleFacts');
    const u = this.users.get(userId);
    if (!u) return null;
    return { userId, externalUserState: u.state, externalUserStateChangeDateTime: u.changedAt, accountEnabled: u.enabled, memberOf: [...u.memberOf] };
  }

  async userExistsAndEnabled(userId: string): Promise<boolean> {
    return this.users.get(userId)?.enabled === true;
  }

  async sponsorsOf(userId: string): Promise<UserSummary[]> {
    return [...this.user(userId).sponsors].map((id) => ({ id, displayName: this.users.get(id)?.displayName ?? id }));
  }

  async addSponsor(userId: string, sponsorId: string): Promise<void> {
    await this.gate('addSponsor');
    this.user(userId).sponsors.add(sponsorId);
    this.writes.push(`addSponsor:${userId}:${sponsorId}`);
  }

  async removeSponsor(userId: string, sponsorId: string): Promise<void> {
    await this.gate('removeSponsor');
    this.user(userId).sponsors.delete(sponsorId);
    this.writes.push(`removeSponsor:${userId}:${sponsorId}`);
  }

  async removeFromGroup(groupId: string, userId: string): Promise<'removed' | 'notMember'> {
    await this.gate('removeFromGroup');
    const u = this.users.get(userId);
    if (!u || !u.memberOf.delete(groupId)) return 'notMember';
    this.writes.push(`removeFromGroup:${groupId}:${userId}`);
    return 'removed';
  }

  async disableSignIn(userId: string): Promise<void> {
    await this.gate('disableSignIn');
    this.user(userId).enabled = false;
    this.writes.push(`disableSignIn:${userId}`);
  }

  async enableSignIn(userId: string): Promise<void> {
    await this.gate('enableSignIn');
    this.user(userId).enabled = true;
    this.writes.push(`enableSignIn:${userId}`);
  }

  async deleteUser(userId: string): Promise<'deleted' | 'notFound'> {
    await this.gate('deleteUser');
    if (!this.users.delete(userId)) return 'notFound';
    this.writes.push(`deleteUser:${userId}`);
    return 'deleted';
  }

  async reinvite(input: { userId: string; email: string; displayName: string; redirectUrl: string; sendEmail: boolean }): Promise<{ redeemUrl: string }> {
    await this.gate('reinvite');
    this.user(input.userId);
    this.links += 1;
    this.writes.push(`reinvite:${input.userId}:${input.sendEmail ? 'email' : 'noEmail'}`);
    return { redeemUrl: `https://login.microsoftonline.com/redeem?link=${this.links}` };
  }

  async isOwner(groupId: string, userId: string): Promise<boolean> {
    return (this.owners.get(groupId) ?? []).some((o) => o.id === userId);
  }

  async listGroupOwners(groupId: string): Promise<UserSummary[]> {
    return [...(this.owners.get(groupId) ?? [])];
  }
}

export interface SentNotice {
  type: keyof LifecycleNotifier;
  to: string;
  as?: string;
  notice: unknown;
}

/** Records every notice; `unreachable` users get 'unreachable'. */
export class RecordingNotifier implements LifecycleNotifier {
  readonly sent: SentNotice[] = [];
  readonly unreachable = new Set<string>();

  private record(type: keyof LifecycleNotifier, to: { userId: string; as?: string }, notice: unknown): Promise<Delivery> {
    this.sent.push({ type, to: to.userId, as: to.as, notice });
    return Promise.resolve(this.unreachable.has(to.userId) ? 'unreachable' : 'sent');
  }

  unredeemedReminder = (to: NoticeRecipient, notice: unknown) => this.record('unredeemedReminder', to, notice);
  autoWithdrawn = (to: NoticeRecipient, notice: unknown) => this.record('autoWithdrawn', to, notice);
  renewalReminder = (to: NoticeRecipient, notice: unknown) => this.record('renewalReminder', to, notice);
  accessEnded = (to: NoticeRecipient, notice: unknown) => this.record('accessEnded', to, notice);
  guestAccessEnded = (guest: { userId: string }, notice: unknown) => this.record('guestAccessEnded', guest, notice);
  sponsorshipReceived = (to: NoticeRecipient, notice: unknown) => this.record('sponsorshipReceived', to, notice);

  of(type: keyof LifecycleNotifier): SentNotice[] {
    return this.sent.filter((s) => s.type === type);
  }
}

export class FakeRenewalApprovals implements RenewalApprovals {
  readonly requests = new Map<string, RenewalApprovalRequest>();
  readonly approvers = new Set<string>(['adele']);

  async submit(request: RenewalApprovalRequest): Promise<{ requestId: string; created: boolean }> {
    const id = `renewal:${request.accessId}:${request.forEndsAt}`;
    const created = !this.requests.has(id);
    if (created) this.requests.set(id, request);
    return { requestId: id, created };
  }

  async isApprover(userId: string): Promise<boolean> {
    return this.approvers.has(userId);
  }
}

export const T0 = '2025-03-03T09:00:00.000Z';
export const FALCON = { groupId: 'falcon', siteName: 'Project Falcon', siteUrl: 'https://contoso.sharepoint.com/sites/falcon' };
export const MEGAN = { userId: 'megan', name: 'Megan Bowen', tenantId: 'contoso' };
export const ALEX = { userId: 'alex', name: 'Alex Wilber', tenantId: 'contoso' };
export const STRANGER = { userId: 'pradeep', name: 'Pradeep Gupta', tenantId: 'contoso' };
export const ADELE = { userId: 'adele', name: 'Adele Vance', tenantId: 'contoso' };

export interface LifecycleHarness {
  clock: ManualClock;
  store: Store;
  accounts: FakeGuestAccounts;
  notifier: RecordingNotifier;
  approvals: FakeRenewalApprovals;
  deps: LifecycleDeps;
  lifecycle: GuestLifecycle;
  runner: ScheduledWorkRunner;
  /** Moves the clock on (days may be fractional) and runs the due work, as the loop would. */
  travel(days: number): Promise<void>;
  /** Records Jane's access to Falcon, invited by Megan now. */
  inviteJane(overrides?: Partial<RecordAccessInput>): Promise<string>;
  /** A second instance over the same store (its own holder and runner). */
  secondRunner(): ScheduledWorkRunner;
}

export function lifecycleHarness(
  options: {
    settings?: Partial<LifecycleSettings>;
    approval?: ApprovalSettings;
    store?: 'memory' | 'sqlite';
    /** A SQLite database file (real restarts: open it again after closing). */
    file?: string;
    /** Carried over from a harness before a restart: the same tenant, clock and inboxes. */
    carry?: Pick<LifecycleHarness, 'clock' | 'accounts' | 'notifier'>;
  } = {},
): LifecycleHarness {
  const clock = options.carry?.clock ?? manualClock(T0);
  const store: Store = options.file
    ? tempStore([], { clock, file: options.file })
    : options.store === 'sqlite'
      ? memoryStore([], { clock })
      : openMemoryStore({ clock });
  if (options.carry) return build(options, clock, store, options.carry.accounts, options.carry.notifier);
  const accounts = new FakeGuestAccounts();
  accounts.addUser('megan', { displayName: 'Megan Bowen' });
  accounts.addUser('alex', { displayName: 'Alex Wilber' });
  accounts.addUser('pradeep', { displayName: 'Pradeep Gupta' });
  accounts.addUser('adele', { displayName: 'Adele Vance' });
  accounts.owners.set('falcon', [{ id: 'alex', displayName: 'Alex Wilber' }]);
  accounts.addGuest('u-jane', 'Jane Doe', ['falcon']);
  return build(options, clock, store, accounts, new RecordingNotifier());
}

function build(
  options: { settings?: Partial<LifecycleSettings>; approval?: ApprovalSettings; store?: 'memory' | 'sqlite'; file?: string },
  clock: ManualClock,
  store: Store,
  accounts: FakeGuestAccounts,
  notifier: RecordingNotifier,
): LifecycleHarness {
  const approvals = new FakeRenewalApprovals();
  const deps: LifecycleDeps = {
    access: store.guestAccess,
    work: store.scheduledWork,
    accounts,
    notifier,
    audit: store.audit,
    clock,
    settings: { ...DEFAULT_LIFECYCLE_SETTINGS, ...options.settings },
    approvals: options.approval ? { settings: options.approval, gate: approvals } : null,
  };
  const lifecycle = createGuestLifecycle(deps);
  const runner = new ScheduledWorkRunner({ work: store.scheduledWork, holderId: store.holders.holderId, clock, handlers: lifecycle.handlers });
  return {
    clock,
    store,
    accounts,
    notifier,
    approvals,
    deps,
    lifecycle,
    runner,
    async travel(days) {
      clock.advance(Math.round(days * DAY_MS));
      await runner.runOnce();
    },
    async inviteJane(overrides = {}) {
      const result = await lifecycle.recordAccess({
        tenantId: 'contoso',
        ...FALCON,
        guest: { userId: 'u-jane', email: 'jane@fabrikam.com', displayName: 'Jane Doe' },
        invitationRecordId: 'inv-jane',
        sponsor: { id: 'megan', name: 'Megan Bowen' },
        redeemed: false,
        sponsorSetByInvitation: true,
        ...overrides,
      });
      return result.access.accessId;
    },
    secondRunner() {
      if (options.store !== 'sqlite' && !options.file) throw new Error('secondRunner needs the sqlite store (a shared holder table)');
      // The store's own registry judges liveness by the system clock: a heartbeat good for years
      // keeps this instance alive in its eyes whatever the manual clock says.
      const holders = new SqliteHolderRegistry(sqliteDatabaseOf(store), { clock, host: 'second-instance', pid: 4343, ttlMs: 20 * 365 * DAY_MS });
      holders.beat();
      return new ScheduledWorkRunner({ work: store.scheduledWork, holderId: holders.holderId, clock, handlers: lifecycle.handlers });
    },
  };
}
