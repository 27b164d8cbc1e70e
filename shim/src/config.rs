//! Configuration from flags or the environment, flags first.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;

use percent_encoding::percent_decode_str;

/// `--database-url`, `--listen`, `--pool-size` (env `DATABASE_URL`, `LISTEN`, `POOL_SIZE`), and
/// the outbox's senders.
#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    pub listen: SocketAddr,
    pub pool_size: usize,
    /// `--trust-proxy` / `TRUST_PROXY` was given: still accepted so that existing deployments
    /// start, but the client-IP rule now lives in the database's settings.
    pub trust_proxy_given: bool,
    /// `--smtp-url` / `SMTP_URL`: where the outbox's email goes.
    pub smtp: Option<SmtpConfig>,
    /// `--sms-webhook-url` and `--sms-webhook-secret`: where the outbox's SMS go.
    pub sms_webhook: Option<SmsWebhookConfig>,
}

pub const USAGE: &str = "auth-ext-shim [--database-url URL] [--listen ADDR:PORT] [--pool-size N]
              [--smtp-url smtp://[user:pass@]host[:port] | smtps://...]
              [--sms-webhook-url URL --sms-webhook-secret v1,whsec_<base64>]
  env: DATABASE_URL, LISTEN, POOL_SIZE, SMTP_URL, SMS_WEBHOOK_URL, SMS_WEBHOOK_SECRET,
       RUST_LOG (default info)
  With an SMTP URL or an SMS webhook the shim also delivers the database's outbox (email by
  SMTP, SMS as a Standard Webhooks POST of Supabase's send-SMS hook input). smtp:// uses
  STARTTLS when the server offers it, and requires it when a user and password are given
  (port 587 by default); smtps:// TLS from the start (465).
  The client's address is decided by the database (settings client_ip_header and
  client_ip_trusted_proxies); --trust-proxy / TRUST_PROXY are accepted and ignored.";

/// An SMTP server as `--smtp-url` names it.
#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub login: Option<SmtpLogin>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SmtpTls {
    /// `smtp://`: STARTTLS when the server offers it, else plain; required when a login is given.
    StartTlsWhenOffered,
    /// `smtps://`: TLS from the first byte.
    Implicit,
}

#[derive(Clone)]
pub struct SmtpLogin {
    pub user: String,
    pub password: String,
}

impl fmt::Display for SmtpTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SmtpTls::StartTlsWhenOffered => "STARTTLS when offered",
            SmtpTls::Implicit => "implicit TLS",
        })
    }
}

/// Where SMS go, and the key their signature is made with.
#[derive(Clone)]
pub struct SmsWebhookConfig {
    pub url: String,
    /// `v1,whsec_<base64>`, as Supabase shows a hook's secret.
    pub secret: String,
}

// The password and the secret stay out of every Debug print (the config may be logged).
impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.login.as_ref().map(|l| &l.user))
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for SmsWebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsWebhookConfig")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl SmtpConfig {
    /// `smtp://[user[:password]@]host[:port]` or `smtps://…`; user and password
    /// percent-decoded. Errors never quote the URL (it may hold the password).
    pub fn parse(text: &str) -> Result<SmtpConfig, String> {
        let url = url::Url::parse(text).map_err(|e| format!("--smtp-url: not a URL ({e})"))?;
        let (tls, default_port) = match url.scheme() {
            "smtp" => (SmtpTls::StartTlsWhenOffered, 587),
            "smtps" => (SmtpTls::Implicit, 465),
            _ => return Err("--smtp-url: the scheme must be smtp:// or smtps://".into()),
        };
        let host = match url.host_str() {
            Some(host) if !host.is_empty() => host.trim_matches(['[', ']']).to_owned(),
            _ => return Err("--smtp-url: no host".into()),
        };
        if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
            return Err(
                "--smtp-url: only [user:password@]host[:port] may follow the scheme".into(),
            );
        }
        let decode = |part: &str| {
            percent_decode_str(part)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| "--smtp-url: the user or password is not UTF-8".to_string())
        };
        let login = if url.username().is_empty() {
            None
        } else {
            Some(SmtpLogin {
                user: decode(url.username())?,
                password: decode(url.password().unwrap_or(""))?,
            })
        };
        Ok(SmtpConfig {
            host,
            port: url.port().unwrap_or(default_port),
            tls,
            login,
        })
    }
}

impl SmsWebhookConfig {
    fn parse(url: String, secret: Option<String>) -> Result<SmsWebhookConfig, String> {
        let parsed =
            url::Url::parse(&url).map_err(|e| format!("--sms-webhook-url: not a URL ({e})"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err("--sms-webhook-url: the scheme must be http:// or https://".into());
        }
        let secret = secret.ok_or("--sms-webhook-url needs --sms-webhook-secret")?;
        // Signing once proves the secret's form now rather than at the first message.
        auth_core::webhook::sign(&secret, "", 0, b"").map_err(|_| {
            "--sms-webhook-secret: not v1,whsec_<base64> of a non-empty key".to_string()
        })?;
        Ok(SmsWebhookConfig { url, secret })
    }
}

impl Config {
    pub fn load() -> Result<Config, String> {
        Config::parse(std::env::args().skip(1), |name| std::env::var(name).ok())
    }

    fn parse(
        args: impl IntoIterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, String> {
        let mut args = args.into_iter();
        let mut flags = HashMap::new();
        while let Some(arg) = args.next() {
            let Some(name) = arg.strip_prefix("--") else {
                return Err(format!("unexpected argument {arg}"));
            };
            if name == "help" {
                return Err(USAGE.into());
            }
            // The one flag without a value.
            if name == "trust-proxy" {
                flags.insert(name.to_string(), "true".to_string());
                continue;
            }
            let value = args
                .next()
                .ok_or_else(|| format!("--{name} needs a value"))?;
            flags.insert(name.to_string(), value);
        }
        // An empty value counts as not given.
        let given = |flag: &str, var: &str| {
            flags
                .get(flag)
                .cloned()
                .or_else(|| env(var))
                .filter(|v| !v.is_empty())
        };
        let get = |flag: &str, var: &str, default: &str| {
            given(flag, var).unwrap_or_else(|| default.to_string())
        };
        let sms_webhook_secret = given("sms-webhook-secret", "SMS_WEBHOOK_SECRET");
        let sms_webhook = match given("sms-webhook-url", "SMS_WEBHOOK_URL") {
            Some(url) => Some(SmsWebhookConfig::parse(url, sms_webhook_secret)?),
            None if sms_webhook_secret.is_some() => {
                return Err("--sms-webhook-secret needs --sms-webhook-url".into())
            }
            None => None,
        };
        Ok(Config {
            // The quick-start cluster of ./run.
            database_url: get(
                "database-url",
                "DATABASE_URL",
                "host=127.0.0.1 port=54329 user=postgres dbname=auth_demo",
            ),
            listen: get("listen", "LISTEN", "127.0.0.1:9999")
                .parse()
                .map_err(|e| format!("--listen: {e}"))?,
            pool_size: get("pool-size", "POOL_SIZE", "16")
                .parse()
                .map_err(|e| format!("--pool-size: {e}"))?,
            trust_proxy_given: matches!(
                get("trust-proxy", "TRUST_PROXY", "false").as_str(),
                "true" | "1" | "yes"
            ),
            smtp: given("smtp-url", "SMTP_URL")
                .map(|url| SmtpConfig::parse(&url))
                .transpose()?,
            sms_webhook,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str], env: &[(&str, &str)]) -> Result<Config, String> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::parse(args.iter().map(|a| a.to_string()), |k| env.get(k).cloned())
    }

    #[test]
    fn flags_before_environment_before_defaults() {
        let c = parse(
            &["--pool-size", "4"],
            &[("POOL_SIZE", "8"), ("LISTEN", "0.0.0.0:1")],
        )
        .unwrap();
        assert_eq!(c.pool_size, 4);
        assert_eq!(c.listen.to_string(), "0.0.0.0:1");
        assert!(c.database_url.contains("auth_demo"));
        assert!(!c.trust_proxy_given);
    }

    #[test]
    fn trust_proxy_is_still_accepted() {
        assert!(
            parse(&["--trust-proxy", "--pool-size", "2"], &[])
                .unwrap()
                .trust_proxy_given
        );
        assert!(
            parse(&[], &[("TRUST_PROXY", "1")])
                .unwrap()
                .trust_proxy_given
        );
    }

    #[test]
    fn smtp_urls() {
        let c = SmtpConfig::parse("smtp://mail.example:2525").unwrap();
        assert_eq!(
            (c.host.as_str(), c.port, c.tls, c.login.is_none()),
            ("mail.example", 2525, SmtpTls::StartTlsWhenOffered, true)
        );
        let c = SmtpConfig::parse("smtps://apikey:p%40ss%3Aw0rd@smtp.example").unwrap();
        assert_eq!((c.port, c.tls), (465, SmtpTls::Implicit));
        let login = c.login.unwrap();
        assert_eq!(
            (login.user.as_str(), login.password.as_str()),
            ("apikey", "p@ss:w0rd")
        );
        assert_eq!(SmtpConfig::parse("smtp://u@h/").unwrap().port, 587);
        assert_eq!(
            SmtpConfig::parse("smtp://u@h")
                .unwrap()
                .login
                .unwrap()
                .password,
            ""
        );
        assert_eq!(SmtpConfig::parse("smtp://[::1]:25").unwrap().host, "::1");
        for bad in [
            "mail.example:25",
            "http://mail.example",
            "smtp://",
            "smtp://h/path",
            "smtp://h?tls=required",
        ] {
            assert!(SmtpConfig::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secrets_stay_out_of_errors_and_debug() {
        let e = SmtpConfig::parse("ftp://user:hunter2@h").unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
        let c = parse(
            &["--smtp-url", "smtp://user:hunter2@h"],
            &[
                ("SMS_WEBHOOK_URL", "https://hooks.example/sms"),
                ("SMS_WEBHOOK_SECRET", "v1,whsec_aHVudGVyMg=="),
            ],
        )
        .unwrap();
        let printed = format!("{c:?}");
        assert!(printed.contains("hooks.example") && printed.contains("user"));
        assert!(!printed.contains("hunter2") && !printed.contains("aHVudGVyMg"));
    }

    #[test]
    fn the_sms_webhook_needs_url_and_secret() {
        let c = parse(
            &["--sms-webhook-url", "http://127.0.0.1:8080/sms"],
            &[(
                "SMS_WEBHOOK_SECRET",
                "v1,whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            )],
        )
        .unwrap();
        assert_eq!(c.sms_webhook.unwrap().url, "http://127.0.0.1:8080/sms");
        assert!(c.smtp.is_none());
        let bad = [
            vec!["--sms-webhook-url", "https://h/sms"],
            vec![
                "--sms-webhook-secret",
                "v1,whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            ],
            vec![
                "--sms-webhook-url",
                "https://h/sms",
                "--sms-webhook-secret",
                "v1,whsec_!!",
            ],
            vec![
                "--sms-webhook-url",
                "ftp://h/sms",
                "--sms-webhook-secret",
                "v1,whsec_AA==",
            ],
        ];
        for args in bad {
            assert!(parse(&args, &[]).is_err(), "{args:?}");
        }
        // Empty means not given.
        assert!(parse(&[], &[("SMS_WEBHOOK_URL", ""), ("SMTP_URL", "")])
            .unwrap()
            .sms_webhook
            .is_none());
    }

    #[test]
    fn bad_flags() {
        assert!(parse(&["stray"], &[]).is_err());
        assert!(parse(&["--listen"], &[]).is_err());
        assert!(parse(&["--listen", "nowhere"], &[]).is_err());
    }
}
