-- The local audit journal (audit.durability fsync|os): how far the store has applied each
-- replica's journal, committed with the records it covers, so that replay after a crash starts
-- exactly past them. Common subset of H2 (MODE=PostgreSQL) and PostgreSQL.
CREATE TABLE audit_journal (
  journal_id VARCHAR(64) NOT NULL PRIMARY KEY,  -- the UUID in DATA_DIR/journal/id
  applied    BIGINT      NOT NULL,              -- journal position (bytes) applied to the store
  created_at BIGINT      NOT NULL
);

-- Blocks of ids handed out to gateways: a session action's id is chosen before its row reaches
-- the store (it is journaled first), and replicas sharing one store must not collide.
CREATE TABLE id_blocks (
  name    VARCHAR(64) NOT NULL PRIMARY KEY,
  next_id BIGINT      NOT NULL
);
INSERT INTO id_blocks (name, next_id)
  SELECT 'session_actions', COALESCE(MAX(id), 0) + 1 FROM session_actions;
