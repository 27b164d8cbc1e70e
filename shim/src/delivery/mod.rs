//! Delivery of the database's outbox: the mail and SMS that flows queue (sign-up confirmations,
//! magic links, codes) leave only here, after their transaction committed.
//!
//! One dedicated connection listens on `auth_outbox`; on a notification, or every
//! [`POLL_INTERVAL`], it claims due messages (`auth.outbox_claim`) until none is left, sends
//! them, and reports each one (`auth.outbox_sent` / `auth.outbox_failed`). Delivery is at least
//! once: a shim that dies while sending leaves the message to be claimed again when its lease
//! runs out. When the database goes away the loop reconnects with a growing pause.
//!
//! Logs name a message by id, channel and action, and say what happened; never its body,
//! code, payload or address.

pub mod sms;
mod smtp;

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_postgres::{AsyncMessage, Client, NoTls, Statement};

use crate::config::Config;
use crate::db;
use sms::SmsWebhook;
use smtp::SmtpSender;

/// How often the outbox is looked at without a notification (one missed while reconnecting, a
/// message whose retry came due).
const POLL_INTERVAL: Duration = Duration::from_secs(2);
/// Messages per claim, and how long the claim keeps them from other consumers.
const CLAIM_BATCH: i32 = 10;
const LEASE_SECONDS: i32 = 60;
/// A message still unsent by then counts as failed: well inside the lease, so that no other
/// consumer claims it while this one may still send it.
const SEND_TIMEOUT: Duration = Duration::from_secs(40);
/// A database call that takes longer means a dead connection: reconnect.
const DB_TIMEOUT: Duration = Duration::from_secs(30);
const FIRST_RECONNECT_PAUSE: Duration = Duration::from_secs(1);
const LONGEST_RECONNECT_PAUSE: Duration = Duration::from_secs(30);

/// What `outbox_failed` is told for a message of a channel this shim has no sender for: it
/// retries later, when a shim with that sender may claim it.
const NO_SENDER: &str = "no sender configured";

/// Why a message was not delivered, as `auth.outbox_failed` keeps it: short, and never holding
/// the message's body, code or payload, nor a credential.
#[derive(Debug)]
pub struct Failure(pub String);

impl Failure {
    pub fn new(reason: &str) -> Failure {
        Failure(reason.to_owned())
    }
}

/// A claimed message, as `auth.outbox_claim` returns it (see docs/flows-contract.md). No Debug:
/// it holds the body and the code.
#[derive(Deserialize)]
pub struct OutboxMessage {
    pub id: i64,
    pub channel: String,
    pub action: Option<String>,
    pub attempts: Option<i64>,
    pub to: Option<String>,
    pub from: Option<String>,
    pub subject: Option<String>,
    pub html: Option<String>,
    pub text: Option<String>,
    pub payload: Option<Value>,
}

/// The configured senders; a channel without one has its messages failed with [`NO_SENDER`].
struct Senders {
    email: Option<SmtpSender>,
    sms: Option<SmsWebhook>,
}

impl Senders {
    /// The outbox channels this shim has a sender for.
    fn channels(&self) -> Vec<&'static str> {
        let mut channels = Vec::new();
        if self.email.is_some() {
            channels.push("email");
        }
        if self.sms.is_some() {
            channels.push("sms");
        }
        channels
    }

    async fn deliver(&self, message: &OutboxMessage) -> Result<(), Failure> {
        match (message.channel.as_str(), &self.email, &self.sms) {
            ("email", Some(smtp), _) => smtp.send(message).await,
            ("sms", _, Some(webhook)) => webhook.send(message).await,
            _ => Err(Failure::new(NO_SENDER)),
        }
    }
}

/// Starts delivery when a sender is configured (`None` when none is). Fails on a sender that
/// cannot be built, so that a bad configuration stops the start.
pub fn start(config: &Config) -> Result<Option<tokio::task::JoinHandle<()>>, String> {
    if config.smtp.is_none() && config.sms_webhook.is_none() {
        return Ok(None);
    }
    let senders = Senders {
        email: config.smtp.as_ref().map(SmtpSender::new).transpose()?,
        sms: config
            .sms_webhook
            .as_ref()
            .map(SmsWebhook::new)
            .transpose()?,
    };
    let pg = db::pg_config(&config.database_url)?;
    tracing::info!(
        email = config.smtp.as_ref().map_or("no sender".into(), |s| format!(
            "smtp {}:{} ({:?})",
            s.host, s.port, s.tls
        )),
        sms = senders
            .sms
            .as_ref()
            .map_or("no sender".into(), |w| format!("webhook at {}", w.host())),
        "outbox delivery on"
    );
    Ok(Some(tokio::spawn(run(pg, Arc::new(senders)))))
}

/// Sessions, one after another, for as long as the shim runs.
async fn run(pg: tokio_postgres::Config, senders: Arc<Senders>) {
    let mut pause = FIRST_RECONNECT_PAUSE;
    loop {
        let ended = session(&pg, &senders, &mut pause).await;
        tracing::warn!(error = %ended, retry_in_s = pause.as_secs(), "outbox connection lost");
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(LONGEST_RECONNECT_PAUSE);
    }
}

/// Why a session ended.
enum SessionEnd {
    Database(tokio_postgres::Error),
    Timeout,
    Closed,
}

impl std::fmt::Display for SessionEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionEnd::Database(e) => write!(f, "{e}"),
            SessionEnd::Timeout => f.write_str("the database did not answer in time"),
            SessionEnd::Closed => f.write_str("the connection closed"),
        }
    }
}

/// A database call that fails or hangs ends the session.
async fn db_call<T>(
    call: impl std::future::Future<Output = Result<T, tokio_postgres::Error>>,
) -> Result<T, SessionEnd> {
    match tokio::time::timeout(DB_TIMEOUT, call).await {
        Ok(result) => result.map_err(SessionEnd::Database),
        Err(_) => Err(SessionEnd::Timeout),
    }
}

struct Statements {
    claim: Statement,
    sent: Statement,
    failed: Statement,
}

/// One connection: LISTEN, then drain on every wake until the connection fails. `pause` is
/// reset once the session is up.
async fn session(
    pg: &tokio_postgres::Config,
    senders: &Arc<Senders>,
    pause: &mut Duration,
) -> SessionEnd {
    let (client, mut connection) = match db_call(pg.connect(NoTls)).await {
        Ok(connected) => connected,
        Err(end) => return end,
    };
    // The connection is driven here; a notification wakes the drain loop (many coalesce).
    let (wake, mut woken) = mpsc::channel::<()>(1);
    let driver = tokio::spawn(async move {
        while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            match message {
                Ok(AsyncMessage::Notification(_)) => {
                    let _ = wake.try_send(());
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    let ended = async {
        db_call(client.batch_execute("LISTEN auth_outbox")).await?;
        let statements = Statements {
            // Only the channels this shim can send: the others wait for a shim that can.
            claim: db_call(client.prepare(&format!(
                "SELECT m FROM auth.outbox_claim({CLAIM_BATCH}, {LEASE_SECONDS}, $1::text[]) AS m"
            )))
            .await?,
            sent: db_call(client.prepare("SELECT auth.outbox_sent($1::bigint)")).await?,
            failed: db_call(client.prepare("SELECT auth.outbox_failed($1::bigint, $2::text)"))
                .await?,
        };
        tracing::info!("outbox: listening");
        *pause = FIRST_RECONNECT_PAUSE;
        loop {
            drain(&client, &statements, senders).await?;
            tokio::select! {
                wake = woken.recv() => if wake.is_none() { return Err(SessionEnd::Closed) },
                _ = tokio::time::sleep(POLL_INTERVAL) => {}
            }
        }
    }
    .await;
    driver.abort();
    match ended {
        Err(end) => end,
        Ok(()) => SessionEnd::Closed,
    }
}

/// Claims and sends until the outbox has nothing due, or until a whole batch failed (a sender
/// that is down is not hammered: the next wake tries again).
async fn drain(
    client: &Client,
    statements: &Statements,
    senders: &Arc<Senders>,
) -> Result<(), SessionEnd> {
    loop {
        let channels = senders.channels();
        let rows = db_call(client.query(&statements.claim, &[&channels])).await?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut sending = JoinSet::new();
        for row in &rows {
            let claimed: Value = match row.try_get(0) {
                Ok(value) => value,
                Err(_) => continue,
            };
            let message = match serde_json::from_value::<OutboxMessage>(claimed.clone()) {
                Ok(message) => message,
                Err(_) => {
                    // Unreadable: failed (so it backs off) when it has an id at all.
                    match claimed.get("id").and_then(Value::as_i64) {
                        Some(id) => {
                            report(
                                client,
                                statements,
                                id,
                                Err(Failure::new("malformed message")),
                            )
                            .await?
                        }
                        None => tracing::error!("outbox: a claimed message has no id"),
                    }
                    continue;
                }
            };
            let senders = Arc::clone(senders);
            sending.spawn(async move {
                let outcome =
                    match tokio::time::timeout(SEND_TIMEOUT, senders.deliver(&message)).await {
                        Ok(outcome) => outcome,
                        Err(_) => Err(Failure::new("timeout")),
                    };
                (message, outcome)
            });
        }
        let mut any_sent = false;
        while let Some(joined) = sending.join_next().await {
            // A panicked send is left to its lease running out.
            let Ok((message, outcome)) = joined else {
                continue;
            };
            any_sent |= outcome.is_ok();
            log(&message, &outcome);
            report(client, statements, message.id, outcome).await?;
        }
        if !any_sent {
            return Ok(());
        }
    }
}

async fn report(
    client: &Client,
    statements: &Statements,
    id: i64,
    outcome: Result<(), Failure>,
) -> Result<(), SessionEnd> {
    match outcome {
        Ok(()) => db_call(client.execute(&statements.sent, &[&id])).await?,
        Err(Failure(reason)) => {
            db_call(client.execute(&statements.failed, &[&id, &reason])).await?
        }
    };
    Ok(())
}

fn log(message: &OutboxMessage, outcome: &Result<(), Failure>) {
    let action = message.action.as_deref().unwrap_or("");
    let attempt = message.attempts.unwrap_or(0);
    match outcome {
        Ok(()) => tracing::info!(
            id = message.id,
            channel = message.channel,
            action,
            attempt,
            "outbox: sent"
        ),
        Err(Failure(reason)) => tracing::warn!(
            id = message.id,
            channel = message.channel,
            action,
            attempt,
            reason,
            "outbox: not sent"
        ),
    }
}
