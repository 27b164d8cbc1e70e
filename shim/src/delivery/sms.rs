//! SMS by webhook: the message's `payload` (Supabase's send-SMS hook input) POSTed as JSON and
//! signed as Standard Webhooks, so that a Supabase HTTP SMS hook receives it unchanged.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::header::CONTENT_TYPE;
use sha2::Sha256;

use super::{Failure, OutboxMessage};
use crate::config::SmsWebhookConfig;

/// A webhook that has not answered by then counts as failed (the message is retried).
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

pub struct SmsWebhook {
    client: reqwest::Client,
    url: String,
    secret: String,
}

impl SmsWebhook {
    pub fn new(config: &SmsWebhookConfig) -> Result<SmsWebhook, String> {
        let client = reqwest::Client::builder()
            .timeout(WEBHOOK_TIMEOUT)
            // A redirect is an answer, not a delivery: the signed body goes nowhere else.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("SMS webhook client: {e}"))?;
        Ok(SmsWebhook {
            client,
            url: config.url.clone(),
            secret: config.secret.clone(),
        })
    }

    /// The receiver's host, for the log (the URL itself may carry a token).
    pub fn host(&self) -> String {
        url::Url::parse(&self.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// Delivered when the receiver answers 2xx. `webhook-id` is the outbox id, the same on every
    /// retry, so that a receiver can drop a message it has already handled.
    pub async fn send(&self, message: &OutboxMessage) -> Result<(), Failure> {
        let payload = message
            .payload
            .as_ref()
            .ok_or(Failure::new("the message has no payload"))?;
        let body = payload.to_string();
        let msg_id = message.id.to_string();
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let signature = sign_webhook(&self.secret, &msg_id, timestamp, &body)
            .map_err(|_| Failure::new("webhook: the secret cannot sign"))?;
        let response = self
            .client
            .post(&self.url)
            .header(CONTENT_TYPE, "application/json")
            .header("webhook-id", &msg_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            // reqwest's own words may quote the URL: only the kind of failure is kept.
            .map_err(|e| {
                Failure::new(if e.is_timeout() {
                    "webhook: timeout"
                } else if e.is_connect() {
                    "webhook: connection failed"
                } else {
                    "webhook: request failed"
                })
            })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(Failure(format!("webhook: HTTP {}", status.as_u16())))
        }
    }
}

/// The Standard Webhooks v1 signature of a message: `v1,` and the base64 of
/// HMAC-SHA256(key, "{msg_id}.{timestamp}.{body}"), where the key is the base64-decoded part of
/// `v1,whsec_<base64>` (the `v1,` and `whsec_` prefixes are optional).
///
/// Stands in for `auth_core::webhook::sign`, which replaces it on merge.
pub fn sign_webhook(
    secret: &str,
    msg_id: &str,
    timestamp: i64,
    body: &str,
) -> Result<String, String> {
    let encoded = secret.strip_prefix("v1,").unwrap_or(secret);
    let encoded = encoded.strip_prefix("whsec_").unwrap_or(encoded);
    let key = BASE64
        .decode(encoded)
        .map_err(|_| "the secret is not v1,whsec_<base64>".to_string())?;
    if key.is_empty() {
        return Err("the secret is empty".into());
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| "unusable key".to_string())?;
    mac.update(format!("{msg_id}.{timestamp}.{body}").as_bytes());
    Ok(format!("v1,{}", BASE64.encode(mac.finalize().into_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification.
    #[test]
    fn the_specifications_example_signature() {
        let expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        for secret in [
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "v1,whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ] {
            let signature = sign_webhook(
                secret,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                r#"{"test": 2432232314}"#,
            );
            assert_eq!(signature.as_deref(), Ok(expected), "{secret}");
        }
    }

    #[test]
    fn unusable_secrets() {
        for secret in ["", "v1,whsec_", "v1,whsec_not base64!", "v1,whsec_%%%%"] {
            assert!(sign_webhook(secret, "1", 0, "{}").is_err(), "{secret}");
        }
    }
}
