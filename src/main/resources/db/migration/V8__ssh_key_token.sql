-- The gateway token or API key (identity_tokens.id) that registered an SSH key at run time, so
-- that revoking a stolen token also disables the keys it registered: a key authenticates only while
-- that token is not revoked (checked at every login, so a revocation on any replica counts). Null
-- for keys stored in-process without a caller token and for keys from before this column (the CLI
-- registers through the API, so its keys carry the token it logged in with).
-- Common subset of H2 (MODE=PostgreSQL) and PostgreSQL.
ALTER TABLE ssh_keys ADD COLUMN token_id VARCHAR(512);

CREATE INDEX ssh_keys_token ON ssh_keys (token_id);
