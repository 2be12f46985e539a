import type { Migration } from './database';

/**
 * Tables owned by the store itself: bot state, conversation references and the audit log.
 * Ids are never reused or edited once released; add a new "core/NNN-..." to change a table.
 */
export const coreMigrations: readonly Migration[] = [
  {
    id: 'core/001-bot-storage',
    // value is the item's JSON without its eTag; etag is regenerated on every write.
    up: `CREATE TABLE bot_storage (
      key        TEXT PRIMARY KEY,
      value      TEXT NOT NULL,
      etag       TEXT NOT NULL,
      updated_at TEXT NOT NULL
    )`,
  },
  {
    id: 'core/002-conversation-references',
    up: `
      CREATE TABLE conversation_references (
        conversation_id   TEXT PRIMARY KEY,
        conversation_type TEXT,
        tenant_id         TEXT,
        reference         TEXT NOT NULL,
        updated_at        TEXT NOT NULL
      );
      -- The one personal (1:1) chat the bot uses to reach a user, by Entra object id.
      CREATE TABLE personal_conversations (
        user_id         TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL REFERENCES conversation_references (conversation_id) ON DELETE CASCADE,
        updated_at      TEXT NOT NULL
      );
      CREATE INDEX personal_conversations_by_conversation ON personal_conversations (conversation_id);
    `,
  },
  {
    id: 'core/003-audit-log',
    up: `
      CREATE TABLE audit_events (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        at           TEXT NOT NULL,
        actor_id     TEXT NOT NULL,
        actor_name   TEXT NOT NULL,
        action       TEXT NOT NULL,
        subject_type TEXT NOT NULL,
        subject_id   TEXT NOT NULL,
        details      TEXT NOT NULL
      );
      CREATE INDEX audit_events_by_subject ON audit_events (subject_type, subject_id, seq);
      CREATE INDEX audit_events_by_actor ON audit_events (actor_id, seq);
      CREATE INDEX audit_events_by_time ON audit_events (at);
      -- Append-only, enforced by the database so no code path can rewrite history.
      CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
      CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
    `,
  },
];
