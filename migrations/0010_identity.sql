-- Single sign-on identities and sign-in throttling (auth package).

-- A user created by an OIDC sign-in is linked to the provider's subject
-- ("<issuer> <sub>"), never to a local user of the same name. Their password
-- hash is empty, so the password form never accepts them.
ALTER TABLE users ADD COLUMN oidc_subject TEXT;
CREATE UNIQUE INDEX users_oidc_subject ON users (oidc_subject) WHERE oidc_subject IS NOT NULL;

-- Throttling counts failures per (username, source) and per source.
DROP INDEX login_failures_username_at;
CREATE INDEX login_failures_username_ip_at ON login_failures (username, client_ip, at);
CREATE INDEX login_failures_at ON login_failures (at);
