-- Tink keysets, each sealed (AEAD) under a key derived from the master key. One row per purpose:
-- 'credentials' (AES256_GCM data keys of the credential vault), 'audit-signing' (Ed25519 keys that
-- sign audit checkpoints). public_keyset holds the public half of signing keysets (JSON, no secret).
CREATE TABLE keysets (
    name          VARCHAR(64)  NOT NULL PRIMARY KEY,
    sealed        BYTEA        NOT NULL,
    public_keyset VARCHAR(65536),
    primary_key_id BIGINT      NOT NULL,
    updated_at    BIGINT       NOT NULL
);

-- One row per connection: AEAD ciphertext of a JSON map of fields, associated data = connection
-- name, so a ciphertext copied to another row does not open.
CREATE TABLE credentials (
    connection VARCHAR(255) NOT NULL PRIMARY KEY,
    sealed     BYTEA        NOT NULL,
    updated_at BIGINT       NOT NULL
);
