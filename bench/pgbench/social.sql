-- A social login's database part, as the shim calls it: the authorize step (the state), the
-- callback's take, and its finish with a GitHub-style provider's answer (find-or-create the
-- user and identity, start the session). :n picks the provider's user: new users with a wide
-- range, returning ones with a narrow one (-D users=...).
\set n random(1, :users)
SELECT substring(auth.oauth_authorize('github') ->> 'url' from 'state=([^&]+)') AS state \gset
SELECT auth.oauth_callback_take(:state::text) IS NOT NULL AS taken \gset
SELECT auth.oauth_callback_finish(:state::text,
    userinfo => jsonb_build_object('id', :n::bigint, 'login', 'octo-' || :n::text, 'name', 'Octo'),
    emails => jsonb_build_array(jsonb_build_object('email', 'octo-' || :n::text || '@example.com',
                                                   'primary', true, 'verified', true)),
    provider_access_token => 'gho_bench') ->> 'location' IS NOT NULL AS signed_in \gset
