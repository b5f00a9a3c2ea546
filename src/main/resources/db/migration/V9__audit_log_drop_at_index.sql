-- audit_log_at (V3) was never used by a query: the verifier, the exporter and the API read the log
-- by seq, its primary key. Every record paid for an entry in it (the store's work per statement is
-- mostly row and index writes), so it goes. Common subset of H2 (MODE=PostgreSQL) and PostgreSQL.
DROP INDEX IF EXISTS audit_log_at;
