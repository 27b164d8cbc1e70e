//! Email by SMTP (lettre): From, To and Subject as the message has them, its HTML with a plain
//! text alternative.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{Failure, OutboxMessage};
use crate::config::{SmtpConfig, SmtpTls};

/// Each step of a conversation with the server (connect, every command) gets this long.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl SmtpSender {
    pub fn new(config: &SmtpConfig) -> Result<SmtpSender, String> {
        let tls_parameters =
            TlsParameters::new(config.host.clone()).map_err(|e| format!("SMTP TLS: {e}"))?;
        let tls = match (config.tls, &config.login) {
            // With a password to send, STARTTLS is required: one an attacker on the path strips
            // would otherwise hand them the login in clear.
            (SmtpTls::StartTlsWhenOffered, Some(_)) => Tls::Required(tls_parameters),
            // A local relay or catcher without a login may speak plain SMTP.
            (SmtpTls::StartTlsWhenOffered, None) => Tls::Opportunistic(tls_parameters),
            (SmtpTls::Implicit, _) => Tls::Wrapper(tls_parameters),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .tls(tls)
            .timeout(Some(SMTP_TIMEOUT));
        if let Some(login) = &config.login {
            builder =
                builder.credentials(Credentials::new(login.user.clone(), login.password.clone()));
        }
        Ok(SmtpSender {
            transport: builder.build(),
        })
    }

    pub async fn send(&self, message: &OutboxMessage) -> Result<(), Failure> {
        let mailbox = |address: Option<&str>, which: &'static str| {
            address
                .and_then(|a| a.parse::<Mailbox>().ok())
                .ok_or(Failure::new(which))
        };
        let from = mailbox(message.from.as_deref(), "no valid from address")?;
        let to = mailbox(message.to.as_deref(), "no valid to address")?;
        let html = message
            .html
            .clone()
            .ok_or(Failure::new("the message has no html"))?;
        let text = message.text.clone().unwrap_or_else(|| html_to_text(&html));
        // A Message-ID of its own per attempt: one derived from the outbox id could repeat
        // across databases that send from the same domain, and receivers drop repeats.
        let email = Message::builder()
            .message_id(None)
            .from(from)
            .to(to)
            .subject(message.subject.clone().unwrap_or_default())
            .multipart(MultiPart::alternative_plain_html(text, html))
            .map_err(|_| Failure::new("the message cannot be built"))?;
        self.transport
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| failure(&e))
    }
}

/// The kind of failure and the server's reply code, never its words (they may quote the
/// message or the address).
fn failure(e: &lettre::transport::smtp::Error) -> Failure {
    if let Some(code) = e.status() {
        let class = if e.is_permanent() {
            "permanent"
        } else if e.is_transient() {
            "transient"
        } else {
            "unexpected"
        };
        return Failure(format!("smtp: {class} reply {code}"));
    }
    Failure::new(if e.is_timeout() {
        "smtp: timeout"
    } else if e.is_tls() {
        "smtp: TLS failed"
    } else if e.is_client() {
        "smtp: client error (no usable login mechanism?)"
    } else {
        "smtp: connection failed"
    })
}

/// The text/plain alternative of a mail's HTML: tags dropped, a link's address written after
/// its words (the confirmation link must survive), a line break where a block ends, the common
/// entities decoded, runs of spaces collapsed. `<head>`, `<style>` and `<script>` are dropped
/// with their content.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    let mut link: Option<(String, usize)> = None;
    let mut hidden_until: Option<&'static str> = None;
    while let Some(open) = rest.find('<') {
        if hidden_until.is_none() {
            push_text(&mut out, &rest[..open]);
        }
        let Some(close) = rest[open..].find('>') else {
            rest = "";
            break;
        };
        let tag = &rest[open + 1..open + close];
        rest = &rest[open + close + 1..];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let closing = tag.starts_with('/');
        if let Some(end) = hidden_until {
            if closing && name == end {
                hidden_until = None;
            }
            continue;
        }
        match (name.as_str(), closing) {
            ("head", false) => hidden_until = Some("head"),
            ("style", false) => hidden_until = Some("style"),
            ("script", false) => hidden_until = Some("script"),
            ("a", false) => link = attribute(tag, "href").map(|href| (href, out.len())),
            ("a", true) => {
                if let Some((href, start)) = link.take() {
                    let words = out[start..].trim();
                    if !href.is_empty() && words != href && !href.starts_with('#') {
                        if !out.ends_with([' ', '\n']) && !out.is_empty() {
                            out.push(' ');
                        }
                        out.push('(');
                        out.push_str(&href);
                        out.push(')');
                    }
                }
            }
            ("br", _) => out.push('\n'),
            ("p" | "div" | "tr" | "li" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "table", _) => {
                out.push('\n')
            }
            _ => {}
        }
    }
    if hidden_until.is_none() {
        push_text(&mut out, rest);
    }
    tidy_lines(&out)
}

/// Source text: entities decoded, any run of whitespace one space.
fn push_text(out: &mut String, source: &str) {
    for c in decode_entities(source).chars() {
        if c.is_whitespace() && c != '\u{a0}' {
            if !out.ends_with([' ', '\n']) && !out.is_empty() {
                out.push(' ');
            }
        } else {
            out.push(if c == '\u{a0}' { ' ' } else { c });
        }
    }
}

/// Lines trimmed, at most one empty line in a row, none at the ends.
fn tidy_lines(text: &str) -> String {
    let mut lines: Vec<&str> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() && lines.last().is_none_or(|l| l.is_empty()) {
            continue;
        }
        lines.push(line);
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines.join("\n")
}

/// An attribute's value in a start tag (`name="v"`, `name='v'` or `name=v`), entities decoded.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find(name) {
        let at = from + found;
        from = at + name.len();
        let before_ok = lower[..at].ends_with(|c: char| c.is_whitespace());
        let after = lower[from..].trim_start();
        if !before_ok || !after.starts_with('=') {
            continue;
        }
        let value_start = tag.len() - after.len() + 1;
        let value = tag[value_start..].trim_start();
        let raw = match value.chars().next() {
            Some(quote @ ('"' | '\'')) => value[1..].split(quote).next().unwrap_or(""),
            _ => value
                .split(|c: char| c.is_whitespace())
                .next()
                .unwrap_or(""),
        };
        return Some(decode_entities(raw));
    }
    None
}

fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').filter(|&end| end <= 10).and_then(|end| {
            let entity = &rest[1..end];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .map(|hex| u32::from_str_radix(hex, 16))
                    .or_else(|| entity.strip_prefix('#').map(str::parse::<u32>))
                    .and_then(Result::ok)
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_confirmation_mail_keeps_its_link() {
        let html = r#"<html><head><title>x</title><style>p { color: red }</style></head><body>
            <h2>Confirm your signup</h2>
            <p>Follow this link to confirm your user:</p>
            <p><a href="https://auth.example/verify?token=abc&amp;type=signup&amp;redirect_to=x">Confirm
               your mail</a></p>
            <p>Or enter the code: 123456</p></body></html>"#;
        assert_eq!(
            html_to_text(html),
            "Confirm your signup\n\nFollow this link to confirm your user:\n\n\
             Confirm your mail (https://auth.example/verify?token=abc&type=signup&redirect_to=x)\n\n\
             Or enter the code: 123456"
        );
    }

    #[test]
    fn entities_breaks_and_bare_links() {
        assert_eq!(
            html_to_text("Tom &amp; Jerry&nbsp;&lt;3&#33;&#x21; &bogus; a&b<br>next"),
            "Tom & Jerry <3!! &bogus; a&b\nnext"
        );
        assert_eq!(
            html_to_text("<a href='https://x.example'>https://x.example</a>"),
            "https://x.example"
        );
        assert_eq!(
            html_to_text("<A HREF=https://x.example/a>go</A> <a name=top>t</a>"),
            "go (https://x.example/a) t"
        );
        assert_eq!(html_to_text("<script>alert(1)</script>ok<b"), "ok");
    }
}
