-- How a browser session ended ('logout' or 'revoked'; NULL on rows ended
-- before this column existed, which were sign-outs), and the browser it
-- was started from, for the sessions API.
ALTER TABLE browser_sessions ADD COLUMN end_reason TEXT;
ALTER TABLE browser_sessions ADD COLUMN user_agent TEXT;
ALTER TABLE browser_sessions ADD COLUMN ip TEXT;
-- OIDC max_age of a pending authorization request.
ALTER TABLE auth_requests ADD COLUMN max_age INTEGER;
