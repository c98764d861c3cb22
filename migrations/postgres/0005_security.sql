-- Named secrets (the operator's credentials, bound to the hosts they may be
-- sent to), token expiry, and disabled users.
--
-- A secret is one of: `stored` (value sealed with the server's master key,
-- hex of an age file), `env` (the name of a variable of Sauve's environment)
-- or `file` (a path Sauve reads when the secret is used). `bindings` is JSON:
-- {"hosts": [...], "buckets": [...]}.
CREATE TABLE secrets (
    name       TEXT PRIMARY KEY,
    source     TEXT NOT NULL,
    value      TEXT NOT NULL,
    bindings   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
