-- The MFA row's users (psql -v count=N): each an anonymous user with a session and a verified
-- TOTP factor (enrolled through auth.mfa_enroll, whose secret the bench keeps to compute codes,
-- then marked verified directly: the row measures verification, not setup). RFC 6238 in
-- PL/pgSQL over pgcrypto computes the codes, independently of the extension.
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE FUNCTION public.bench_base32(s text) RETURNS bytea LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE alphabet text := 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'; bits text := ''; out bytea := '';
BEGIN
    FOR i IN 1 .. length(s) LOOP
        bits := bits || lpad((position(substr(s, i, 1) IN alphabet) - 1)::bit(5)::text, 5, '0');
    END LOOP;
    FOR i IN 0 .. length(bits) / 8 - 1 LOOP
        out := out || set_byte('\x00'::bytea, 0, substr(bits, i * 8 + 1, 8)::bit(8)::int);
    END LOOP;
    RETURN out;
END $$;
CREATE FUNCTION public.bench_totp(key bytea, step bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE mac bytea := public.hmac(int8send(step), key, 'sha1'); o int; v bigint;
BEGIN
    o := get_byte(mac, 19) & 15;
    v := ((get_byte(mac, o) & 127)::bigint << 24) | (get_byte(mac, o + 1) << 16)
         | (get_byte(mac, o + 2) << 8) | get_byte(mac, o + 3);
    RETURN lpad((v % 1000000)::text, 6, '0');
END $$;
SELECT set_config('bench.count', :'count', false) IS NOT NULL AS counted;
CREATE TABLE public.bench_factors (n int PRIMARY KEY, claims text NOT NULL, factor text NOT NULL, key bytea NOT NULL);
DO $seed$
DECLARE
    s jsonb;
    f jsonb;
BEGIN
    FOR n IN 1 .. current_setting('bench.count')::int LOOP
        s := auth.sign_in_anonymously();
        PERFORM set_config('request.jwt.claims', auth.verify_jwt(s ->> 'access_token')::text, true);
        f := auth.mfa_enroll('totp');
        INSERT INTO public.bench_factors
        VALUES (n, current_setting('request.jwt.claims'), f ->> 'id', public.bench_base32(f #>> '{totp,secret}'));
    END LOOP;
END
$seed$;
UPDATE auth.mfa_factors SET status = 'verified';
-- One verification as the shim makes it: the caller's claims, a challenge, the code.
CREATE FUNCTION public.bench_mfa_verify(k int) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE b public.bench_factors; c jsonb;
BEGIN
    SELECT * INTO STRICT b FROM public.bench_factors WHERE n = k;
    PERFORM set_config('request.jwt.claims', b.claims, true);
    c := auth.mfa_challenge(b.factor);
    RETURN auth.mfa_verify(b.factor, c ->> 'id',
        public.bench_totp(b.key, floor(extract(epoch FROM clock_timestamp()) / 30)::bigint)) ? 'access_token';
END $$;
VACUUM ANALYZE;
