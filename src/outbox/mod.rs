//! The transactional outbox: messages queued in the transaction that issued their codes, and the
//! consumer API that drains them (`outbox_claim`, `outbox_sent`, `outbox_failed`). Rendering
//! (subject, HTML, SMS text, sender) happens at claim time from the current settings, so a
//! template fixed after a message was queued applies to its retries.

use auth_core::templates::{self, EmailAction, EmailVars};
use auth_core::AuthError;
use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::{json, Value};

use crate::db;
use crate::error::{guard, AuthResult};
use crate::instance::{self, Instance};
use crate::one_time::Channel;

static QUEUE: &str = include_str!("queue.sql");
static CLAIM: &str = include_str!("claim.sql");
static SENT: &str = include_str!("sent.sql");
static FAILED: &str = include_str!("failed.sql");

/// Queues a message to `recipient`; `payload` is GoTrue's send-email / send-SMS hook input.
static RECORD_HOOK_DELIVERY: &str = include_str!("record_hook_delivery.sql");

pub(crate) fn queue(
    inst: &Instance,
    channel: Channel,
    action: &str,
    recipient: &str,
    user_id: pgrx::Uuid,
    payload: Value,
) -> AuthResult<i64> {
    // A send_email / send_sms hook delivers in place of the outbox, in this transaction (as
    // GoTrue's). An email change's second message carries the same payload as its first, which
    // the hook already got with both codes.
    let sms = matches!(channel, Channel::Sms);
    if action == "email_change_current"
        && crate::hooks::configured(
            inst,
            if sms {
                auth_core::hooks::HookPoint::SendSms
            } else {
                auth_core::hooks::HookPoint::SendEmail
            },
        )
        .is_some()
    {
        return Ok(0);
    }
    if crate::hooks::send_message(inst, sms, &payload)? {
        return db::json(
            RECORD_HOOK_DELIVERY,
            &[
                channel.as_str().into(),
                action.into(),
                recipient.into(),
                user_id.into(),
            ],
        )?
        .and_then(|v| v.as_i64())
        .ok_or(AuthError::Internal);
    }
    db::json(
        QUEUE,
        &[
            channel.as_str().into(),
            action.into(),
            recipient.into(),
            user_id.into(),
            JsonB(payload).into(),
        ],
    )?
    .and_then(|v| v.as_i64())
    .ok_or(AuthError::Internal)
}

/// Refuses when the instance queued its hourly number of messages on `channel` (counted from the
/// outbox itself). Senders of one channel take turns on an advisory lock until they commit, so
/// two cannot both take the last place.
pub(crate) fn within_hourly_limit(inst: &Instance, channel: Channel) -> AuthResult<()> {
    let key: i32 = match channel {
        Channel::Email => 1,
        Channel::Sms => 2,
    };
    db::exec(
        "SELECT pg_advisory_xact_lock(1635086955, $1)",
        &[key.into()],
    )?;
    hourly_count_below_limit(inst, channel)
}

/// The count of [`within_hourly_limit`] without its lock: an answer for a caller that will not
/// queue (or will queue through `within_hourly_limit` later), so holding no instance-wide lock.
pub(crate) fn hourly_count_below_limit(inst: &Instance, channel: Channel) -> AuthResult<()> {
    let (limit, err) = match channel {
        Channel::Email => (
            inst.settings.mailer.rate_limit_email_sent,
            AuthError::OverEmailSendRateLimit(None),
        ),
        Channel::Sms => (
            inst.settings.phone.rate_limit_sms_sent,
            AuthError::OverSmsSendRateLimit(None),
        ),
    };
    let queued = db::json(
        "SELECT to_jsonb(count(*)) FROM auth.outbox \
          WHERE channel = $1 AND created_at > now() - interval '1 hour'",
        &[channel.as_str().into()],
    )?
    .and_then(|v| v.as_i64())
    .unwrap_or(i64::MAX);
    if queued >= limit {
        return Err(err);
    }
    Ok(())
}

fn text<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_str().unwrap_or("")
}

/// A claimed row with its texts rendered.
fn render(inst: &Instance, row: Value) -> Value {
    let s = &inst.settings;
    let payload = &row["payload"];
    let channel = text(&row, &["channel"]);
    let mut out = json!({
        "id": row["id"], "channel": channel, "action": row["action"],
        "attempts": row["attempts"], "to": row["to"], "payload": payload,
    });
    if channel == "sms" {
        // A phone factor's code has a template of its own (GoTrue's `mfa_phone_template`).
        let template = if text(&row, &["action"]) == "mfa" {
            &s.mfa.mfa_phone_template
        } else {
            &s.phone.sms_template
        };
        out["text"] = templates::render_sms(template, text(payload, &["sms", "otp"])).into();
        return out;
    }
    let Some(action) = EmailAction::parse(text(&row, &["action"])) else {
        return out;
    };
    let data = &payload["email_data"];
    let (token, hash) = match action {
        EmailAction::EmailChangeNew => {
            (text(data, &["token_new"]), text(data, &["token_hash_new"]))
        }
        _ => (text(data, &["token"]), text(data, &["token_hash"])),
    };
    let redirect_to = text(data, &["redirect_to"]);
    let confirmation_url = templates::confirmation_url(
        &s.mailer.api_external_url,
        hash,
        action.verify_type(),
        redirect_to,
    );
    let user = &payload["user"];
    let email = match action {
        EmailAction::EmailChangeNew | EmailAction::EmailChangeCurrent => text(data, &["old_email"]),
        _ => text(user, &["email"]),
    };
    let vars = EmailVars {
        confirmation_url: &confirmation_url,
        token,
        token_hash: hash,
        site_url: &s.signup.site_url,
        email,
        new_email: text(user, &["new_email"]),
        redirect_to,
        data: &user["user_metadata"],
    };
    let m = &s.mailer;
    let (subject, body) = match action.template_key() {
        "confirmation" => (
            &m.mailer_subjects_confirmation,
            &m.mailer_templates_confirmation_content,
        ),
        "invite" => (
            &m.mailer_subjects_invite,
            &m.mailer_templates_invite_content,
        ),
        "magic_link" => (
            &m.mailer_subjects_magic_link,
            &m.mailer_templates_magic_link_content,
        ),
        "recovery" => (
            &m.mailer_subjects_recovery,
            &m.mailer_templates_recovery_content,
        ),
        "email_change" => (
            &m.mailer_subjects_email_change,
            &m.mailer_templates_email_change_content,
        ),
        _ => (
            &m.mailer_subjects_reauthentication,
            &m.mailer_templates_reauthentication_content,
        ),
    };
    let (subject, body) = templates::subject_and_body(action, subject.as_deref(), body.as_deref());
    out["subject"] = templates::render(subject, &vars).into();
    out["html"] = templates::render(body, &vars).into();
    out["from"] = if m.smtp_sender_name.is_empty() {
        m.smtp_admin_email.clone().into()
    } else {
        format!(
            "{} <{}>",
            m.smtp_sender_name.replace(['<', '>', '"'], ""),
            m.smtp_admin_email
        )
        .into()
    };
    out
}

#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn outbox_claim(
    max_messages: default!(Option<i32>, 10),
    lease_seconds: default!(Option<i32>, 60),
    channels: default!(Option<Vec<Option<String>>>, "'{email,sms}'"),
) -> SetOfIterator<'static, JsonB> {
    guard(move || {
        let (Some(max_messages), Some(lease_seconds)) = (max_messages, lease_seconds) else {
            return Err(AuthError::validation(
                "max_messages must be 1-1000 and lease_seconds 1-3600",
            ));
        };
        if !(1..=1000).contains(&max_messages) || !(1..=3600).contains(&lease_seconds) {
            return Err(AuthError::validation(
                "max_messages must be 1-1000 and lease_seconds 1-3600",
            ));
        }
        // A consumer with only some senders claims only their channels, so the others' messages
        // wait for a consumer that can send them instead of failing their attempts.
        let channels: Vec<String> = channels
            .unwrap_or_default()
            .into_iter()
            .flatten()
            .filter(|c| c == "email" || c == "sms")
            .collect();
        let inst = instance::get()?;
        let rows = db::json(
            CLAIM,
            &[
                max_messages.into(),
                (lease_seconds as f64).into(),
                channels.into(),
            ],
        )?;
        let rows = match rows {
            Some(Value::Array(rows)) => rows,
            _ => Vec::new(),
        };
        let rendered: Vec<JsonB> = rows.into_iter().map(|r| JsonB(render(&inst, r))).collect();
        Ok(SetOfIterator::new(rendered))
    })
}

#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn outbox_sent(id: i64) {
    guard(move || {
        db::exec(SENT, &[id.into()])?;
        Ok(())
    })
}

#[pg_extern(schema = "auth", security_definer)]
#[search_path(pg_catalog, pg_temp)]
fn outbox_failed(id: Option<i64>, error: Option<&str>) {
    guard(move || {
        let id = id.ok_or_else(|| AuthError::validation("outbox_failed needs a message id"))?;
        db::exec(FAILED, &[id.into(), error.unwrap_or("failed").into()])?;
        Ok(())
    })
}

pgrx::extension_sql_file!(
    "api.sql",
    name = "outbox_api",
    requires = [outbox_claim, outbox_sent, outbox_failed]
);
