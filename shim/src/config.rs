//! Configuration from flags or the environment, flags first.

use std::collections::HashMap;
use std::net::SocketAddr;

/// `--database-url`, `--listen`, `--pool-size` (env `DATABASE_URL`, `LISTEN`, `POOL_SIZE`).
#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    pub listen: SocketAddr,
    pub pool_size: usize,
    /// `--trust-proxy` / `TRUST_PROXY` was given: still accepted so that existing deployments
    /// start, but the client-IP rule now lives in the database's settings.
    pub trust_proxy_given: bool,
}

pub const USAGE: &str = "auth-ext-shim [--database-url URL] [--listen ADDR:PORT] [--pool-size N]
  env: DATABASE_URL, LISTEN, POOL_SIZE, RUST_LOG (default info)
  The client's address is decided by the database (settings client_ip_header and
  client_ip_trusted_proxies); --trust-proxy / TRUST_PROXY are accepted and ignored.";

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
        let get = |flag: &str, var: &str, default: &str| {
            flags
                .get(flag)
                .cloned()
                .or_else(|| env(var))
                .unwrap_or_else(|| default.to_string())
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
    fn bad_flags() {
        assert!(parse(&["stray"], &[]).is_err());
        assert!(parse(&["--listen"], &[]).is_err());
        assert!(parse(&["--listen", "nowhere"], &[]).is_err());
    }
}
