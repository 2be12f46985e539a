/**
 * The approval tables (requests, deliveries, requester notices): their migrations, row shapes and
 * the mapping from rows to the approvals use case's records. Only the SQLite approval adapters use it.
 */
import type { Migration } from './database';
import type {
  ApprovalKind,
  ApprovalOutcomeStatus,
  ApprovalRequest,
  ApprovalState,
  ApprovalSubject,
  ConversationAddress,
  Delivery,
  DeliveryAudience,
  DeliveryPurpose,
  DeliveryStatus,
  NoticeTone,
  RequesterNotice,
  RequesterNoticeState,
} from '../../usecases/approvals/model';

export const approvalMigrations: Migration[] = [
  {
    id: 'approvals/001-create',
    up: `
      CREATE TABLE approval_requests (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        tenant_id TEXT NOT NULL,
        state TEXT NOT NULL,
        version INTEGER NOT NULL,
        requester_id TEXT NOT NULL,
        requester_name TEXT NOT NULL,
        requester_conversation_id TEXT,
        subject TEXT NOT NULL,
        justification TEXT NOT NULL,
        reasons TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        decided_at TEXT,
        decided_by_id TEXT,
        decided_by_name TEXT,
        decision_note TEXT,
        info_requested_by_name TEXT,
        info_question TEXT,
        info_requested_at TEXT,
        outcome_status TEXT,
        outcome_message TEXT,
        outcome_at TEXT
      );
      CREATE INDEX approval_requests_pending ON approval_requests (state, expires_at);
      CREATE INDEX approval_requests_requester ON approval_requests (requester_id, state);
      CREATE TABLE approval_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        request_id TEXT NOT NULL REFERENCES approval_requests (id),
        audience TEXT NOT NULL,
        recipient_id TEXT,
        recipient_name TEXT,
        purpose TEXT NOT NULL,
        status TEXT NOT NULL,
        conversation TEXT,
        activity_id TEXT,
        error TEXT,
        at TEXT NOT NULL
      );
      CREATE INDEX approval_deliveries_request ON approval_deliveries (request_id, purpose, status);
    `,
  },
  {
    // Notices to requesters that failed are kept to be sent again; claimed_until is a short lease
    // so that two turns (or two processes) never send the same one twice.
    id: 'approvals/002-requester-notices',
    up: `
      CREATE TABLE approval_requester_notices (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        request_id TEXT NOT NULL REFERENCES approval_requests (id),
        requester_id TEXT NOT NULL,
        request_version INTEGER NOT NULL,
        notice TEXT,
        redeem_url TEXT,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        last_attempt_at TEXT NOT NULL,
        last_error TEXT,
        claimed_until TEXT,
        delivered_at TEXT
      );
      CREATE INDEX approval_requester_notices_requester ON approval_requester_notices (requester_id, state);
      CREATE INDEX approval_requester_notices_due ON approval_requester_notices (state, last_attempt_at);
      CREATE INDEX approval_requester_notices_request ON approval_requester_notices (request_id, state);
    `,
  },
  {
    // Every activity asks "does this person have approval cards that never reached them?".
    id: 'approvals/003-deliveries-by-recipient',
    up: `CREATE INDEX approval_deliveries_recipient ON approval_deliveries (recipient_id, purpose, status);`,
  },
];

export interface RequestRow {
  id: string;
  kind: string;
  tenant_id: string;
  state: string;
  version: number;
  requester_id: string;
  requester_name: string;
  requester_conversation_id: string | null;
  subject: string;
  justification: string;
  reasons: string;
  created_at: string;
  expires_at: string;
  decided_at: string | null;
  decided_by_id: string | null;
  decided_by_name: string | null;
  decision_note: string | null;
  info_requested_by_name: string | null;
  info_question: string | null;
  info_requested_at: string | null;
  outcome_status: string | null;
  outcome_message: string | null;
  outcome_at: string | null;
}

export interface DeliveryRow {
  id: number;
  request_id: string;
  audience: string;
  recipient_id: string | null;
  recipient_name: string | null;
  purpose: string;
  status: string;
  conversation: string | null;
  activity_id: string | null;
  error: string | null;
  at: string;
}

export interface NoticeRow {
  id: number;
  request_id: string;
  requester_id: string;
  request_version: number;
  notice: string | null;
  redeem_url: string | null;
  state: string;
  attempts: number;
  created_at: string;
  last_attempt_at: string;
  last_error: string | null;
  claimed_until: string | null;
  delivered_at: string | null;
}

function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  return JSON.parse(text) as T;
}

export function toRequest(row: RequestRow): ApprovalRequest {
  return {
    id: row.id,
    kind: row.kind as ApprovalKind,
    tenantId: row.tenant_id,
    state: row.state as ApprovalState,
    version: row.version,
    requester: { userId: row.requester_id, name: row.requester_name, tenantId: row.tenant_id },
    requesterConversationId: row.requester_conversation_id,
    subject: JSON.parse(row.subject) as ApprovalSubject,
    justification: row.justification,
    reasons: parseJson<string[]>(row.reasons, []),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    decidedAt: row.decided_at,
    decidedBy:
      row.decided_by_name !== null ? { userId: row.decided_by_id ?? '', name: row.decided_by_name } : null,
    decisionNote: row.decision_note,
    infoRequest:
      row.info_question !== null && row.info_requested_at !== null
        ? { byName: row.info_requested_by_name ?? '', question: row.info_question, at: row.info_requested_at }
        : null,
    outcome:
      row.outcome_status !== null && row.outcome_at !== null
        ? { status: row.outcome_status as ApprovalOutcomeStatus, message: row.outcome_message ?? '', at: row.outcome_at }
        : null,
  };
}

export function toDelivery(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    requestId: row.request_id,
    audience: row.audience as DeliveryAudience,
    recipientId: row.recipient_id,
    recipientName: row.recipient_name,
    purpose: row.purpose as DeliveryPurpose,
    status: row.status as DeliveryStatus,
    conversation: parseJson<ConversationAddress | null>(row.conversation, null),
    activityId: row.activity_id,
    error: row.error,
    at: row.at,
  };
}

export function toNotice(row: NoticeRow): RequesterNotice {
  return {
    id: row.id,
    requestId: row.request_id,
    requesterId: row.requester_id,
    requestVersion: row.request_version,
    notice: parseJson<{ text: string; tone: NoticeTone } | null>(row.notice, null),
    redeemUrl: row.redeem_url,
    state: row.state as RequesterNoticeState,
    attempts: row.attempts,
    createdAt: row.created_at,
    lastAttemptAt: row.last_attempt_at,
    lastError: row.last_error,
    deliveredAt: row.delivered_at,
  };
}

