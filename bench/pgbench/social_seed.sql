-- The returning users of the social-login row, signed in once each (one at a time: two first
-- sign-ins of the same provider user at once are a conflict, one of them told to retry).
DO $seed$
DECLARE
    state text;
BEGIN
    FOR n IN 1 .. 1000 LOOP
        state := substring(auth.oauth_authorize('github') ->> 'url' from 'state=([^&]+)');
        PERFORM auth.oauth_callback_take(state);
        PERFORM auth.oauth_callback_finish(state,
            userinfo => jsonb_build_object('id', n, 'login', 'octo-' || n, 'name', 'Octo'),
            emails => jsonb_build_array(jsonb_build_object('email', 'octo-' || n || '@example.com',
                                                           'primary', true, 'verified', true)),
            provider_access_token => 'gho_bench');
    END LOOP;
END
$seed$;
