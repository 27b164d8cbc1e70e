-- Message $1 went out: done, and its codes and hashes are wiped (the row stays for the hourly
-- count and for operators).
UPDATE auth.outbox
   SET status = 'sent', sent_at = now(), lease_until = NULL, last_error = NULL,
       payload = payload #- '{email_data,token}' #- '{email_data,token_hash}'
                         #- '{email_data,token_new}' #- '{email_data,token_hash_new}' #- '{sms,otp}'
 WHERE id = $1 AND status = 'sending'
