-- Message $1 could not be sent ($2 says why, briefly): retried after 5 s, 10 s, 20 s, ... (at
-- most an hour apart); after 10 attempts it is given up and its codes wiped.
UPDATE auth.outbox
   SET status = CASE WHEN attempts >= 10 THEN 'failed' ELSE 'pending' END,
       next_attempt_at = now() + least(interval '1 hour',
                                       interval '5 seconds' * power(2, greatest(attempts - 1, 0))),
       lease_until = NULL,
       last_error = left($2, 500),
       payload = CASE WHEN attempts >= 10
                      THEN payload #- '{email_data,token}' #- '{email_data,token_hash}'
                                   #- '{email_data,token_new}' #- '{email_data,token_hash_new}' #- '{sms,otp}'
                      ELSE payload END
 WHERE id = $1 AND status = 'sending'
