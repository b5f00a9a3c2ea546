-- Gateway tokens (ght_) and API keys (ghk_). Only the SHA-256 of the secret part is stored; the
-- id is the lookup key and is not secret. Times are epoch milliseconds. Lists and maps are JSON.
CREATE TABLE identity_tokens (
  id              VARCHAR(32)    NOT NULL PRIMARY KEY,
  token_type      VARCHAR(16)    NOT NULL,
  name            VARCHAR(200),
  secret_hash     VARCHAR(64)    NOT NULL,
  subject         VARCHAR(512)   NOT NULL,
  kind            VARCHAR(16)    NOT NULL,
  groups_json     VARCHAR(16000) NOT NULL,
  scope_json      VARCHAR(16000) NOT NULL,
  attributes_json VARCHAR(16000) NOT NULL,
  created_at      BIGINT         NOT NULL,
  expires_at      BIGINT         NOT NULL,
  revoked_at      BIGINT,
  revoked_by      VARCHAR(512),
  issued_by       VARCHAR(512)   NOT NULL
);

-- Every replica reloads "revoked and not yet expired" ids every two seconds.
CREATE INDEX identity_tokens_revoked ON identity_tokens (revoked_at, expires_at);
CREATE INDEX identity_tokens_created ON identity_tokens (created_at);
