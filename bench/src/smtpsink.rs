//! A fast SMTP sink for bench/run's outbox figures: it accepts every message, keeps nothing but
//! one JSON line per message on stdout, and never writes a file.
//!
//! smtpsink --listen 127.0.0.1:54398
//!
//! A line: {"t": <unix seconds when the message's final "." arrived>, "rcpt": "<first recipient>",
//! "bytes": <the message's size>, "conv_ms": <MAIL FROM to the final ".">, "data_ms": <the 354 reply to the final ".">}. With
//! data_ms, a sender whose small writes wait for delayed acknowledgements (Nagle) shows ~40 ms
//! on loopback. The sink replies with one write per reply and TCP_NODELAY, so it adds no such
//! wait of its own. It prints "smtp sink listening on ADDR" once it accepts connections.

use std::io::Write;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

fn flag(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_owned())
}

async fn conversation(stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::with_capacity(64 * 1024, read);
    write.write_all(b"220 smtpsink ESMTP\r\n").await?;
    let mut line = Vec::with_capacity(1024);
    let mut rcpt = String::new();
    let mut mail_at = Instant::now();
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let command = String::from_utf8_lossy(&line).trim_end().to_owned();
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => {
                b"250-smtpsink\r\n250-SIZE 33554432\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 HELP\r\n"
            }
            "HELO" => b"250 smtpsink\r\n",
            "MAIL" => {
                mail_at = Instant::now();
                rcpt.clear();
                b"250 OK\r\n"
            }
            "RCPT" => {
                if rcpt.is_empty() {
                    rcpt = command
                        .split_once(':')
                        .map_or("", |(_, a)| a)
                        .trim()
                        .trim_start_matches('<')
                        .split('>')
                        .next()
                        .unwrap_or("")
                        .to_owned();
                }
                b"250 OK\r\n"
            }
            "DATA" => {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let data_at = Instant::now();
                let mut bytes = 0;
                loop {
                    line.clear();
                    if lines.read_until(b'\n', &mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == b".\r\n" || line == b".\n" {
                        break;
                    }
                    bytes += line.len();
                }
                let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
                let record = serde_json::json!({
                    "t": t.as_secs_f64(), "rcpt": rcpt, "bytes": bytes,
                    "conv_ms": mail_at.elapsed().as_secs_f64() * 1000.0,
                    "data_ms": data_at.elapsed().as_secs_f64() * 1000.0,
                });
                writeln!(std::io::stdout().lock(), "{record}")?;
                b"250 OK: queued\r\n"
            }
            "RSET" | "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 Bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 Command not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}

#[tokio::main]
async fn main() {
    let listen = flag("--listen", "127.0.0.1:54398");
    let listener = TcpListener::bind(&listen).await.expect("listen");
    eprintln!("smtp sink listening on {listen}");
    loop {
        let (stream, _) = listener.accept().await.expect("accept");
        tokio::spawn(async move {
            let _ = conversation(stream).await;
        });
    }
}
