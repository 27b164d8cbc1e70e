//! SMS by webhook: the message's `payload` (Supabase's send-SMS hook input) POSTed as JSON and
//! signed as Standard Webhooks, so that a Supabase HTTP SMS hook receives it unchanged.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::CONTENT_TYPE;

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
        let signature = auth_core::webhook::sign(&self.secret, &msg_id, timestamp, body.as_bytes())
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
