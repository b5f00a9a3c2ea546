-- SSH public keys registered to identities at run time (gatehouse ssh-keys add, POST
-- /api/v1/ssh-keys). Keys from identity.users[].ssh_keys live in the configuration, not here.
-- Common subset of H2 (MODE=PostgreSQL) and PostgreSQL; times are epoch milliseconds, lists JSON.
CREATE TABLE ssh_keys (
  id          VARCHAR(32)    NOT NULL PRIMARY KEY,
  subject     VARCHAR(512)   NOT NULL,
  kind        VARCHAR(16)    NOT NULL,           -- human | service | agent, when registered
  groups_json VARCHAR(16000) NOT NULL,           -- the owner's groups when registered
  key_type    VARCHAR(64)    NOT NULL,           -- ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, ...
  fingerprint VARCHAR(100)   NOT NULL,           -- SHA256:... as ssh-keygen -l prints it
  public_key  VARCHAR(16000) NOT NULL,           -- "type base64", without the comment
  comment     VARCHAR(1000),
  created_at  BIGINT         NOT NULL,
  expires_at  BIGINT,                            -- null: until removed
  created_by  VARCHAR(512)   NOT NULL,
  CONSTRAINT ssh_keys_one_per_subject UNIQUE (subject, fingerprint)
);

CREATE INDEX ssh_keys_fingerprint ON ssh_keys (fingerprint);
