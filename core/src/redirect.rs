//! Where a flow may send the browser back to: GoTrue's `IsRedirectURLValid` with its fallback to
//! `site_url`, and the building of the `/verify` redirects.
//!
//! GoTrue (`internal/utilities/request.go`) accepts a `redirect_to` when
//!
//! 1. it is not empty and has no ASCII control character or space;
//! 2. it parses as a URL (Go's `net/url`), or it does not parse and does not start with `http:`
//!    or `https:` (a custom mobile scheme such as `com.my_app://cb` fails Go's parser and must
//!    still reach the allow list);
//! 3. then, when it parsed: its hostname, scheme and port are those of `site_url` (the port may
//!    differ on a localhost name); otherwise a hostname made of digits only is refused, an IP
//!    literal is accepted exactly when it is a loopback address, and an `http(s)` hostname that
//!    is not plain (`^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$`) is refused;
//! 4. else it matches, without its fragment, one of the `uri_allow_list` globs (gobwas/glob with
//!    `.` and `/` as separators: `*` and `?` stop at them, `**` does not).
//!
//! This module does all of that, and is stricter where GoTrue lets a browser go somewhere the
//! check did not look at (each case is marked STRICTER below). What it accepts is always a
//! subset of what GoTrue accepts.

use std::net::IpAddr;

/// Longest `redirect_to` considered. STRICTER: GoTrue has no limit; a longer one falls back to
/// `site_url` (and keeps the glob matching, linear in the length, cheap).
pub const MAX_REDIRECT_LEN: usize = 4096;

/// Schemes never redirected to, whatever the allow list says. STRICTER: GoTrue lets an allow-list
/// glob such as `*` or `**` admit `javascript:alert(1)`, and its loopback rule admits
/// `javascript://127.0.0.1/%0aalert(1)`; a template that puts `{{ .RedirectTo }}` in a link, or
/// a client that assigns it to `location`, would run it.
const BLOCKED_SCHEMES: [&str; 8] = [
    "javascript",
    "vbscript",
    "data",
    "file",
    "blob",
    "about",
    "filesystem",
    "view-source",
];

/// `redirect_to` when GoTrue (and the stricter checks here) allow it, else `site_url`.
///
/// `uri_allow_list` is Supabase's comma-separated list of globs. Entries are trimmed of
/// surrounding whitespace (GoTrue would keep the spaces and so never match such an entry) and an
/// entry that is not a valid glob is ignored (GoTrue refuses to start).
pub fn allowed_target(redirect_to: Option<&str>, site_url: &str, uri_allow_list: &str) -> String {
    match redirect_to {
        Some(r) if is_allowed(r, site_url, uri_allow_list) => r.to_owned(),
        _ => site_url.to_owned(),
    }
}

/// Whether `redirect_to` may be redirected to (see [`allowed_target`]).
pub fn is_allowed(redirect_to: &str, site_url: &str, uri_allow_list: &str) -> bool {
    let r = redirect_to;
    if r.is_empty() || r.len() > MAX_REDIRECT_LEN {
        return false;
    }
    // GoTrue: any ASCII control character or space. STRICTER: also the C1 controls and the
    // backslash, which browsers read as a slash in http(s) URLs (`https:/\evil.com`,
    // `https://good.com\@evil.com`) while Go's parser does not.
    if r.chars()
        .any(|c| c <= ' ' || ('\u{7f}'..='\u{9f}').contains(&c) || c == '\\')
    {
        return false;
    }
    // STRICTER: a network-path reference (`//evil.com/x`) goes wherever its authority says,
    // but Go parses it without a scheme, so GoTrue checks it against the allow list only.
    if r.starts_with("//") {
        return false;
    }
    if let Some(scheme) = browser_scheme(r) {
        if BLOCKED_SCHEMES.contains(&scheme.as_str()) {
            return false;
        }
    }
    let Some(base) = GoUrl::parse(site_url) else {
        // site_url itself does not parse: GoTrue accepts nothing
        return false;
    };
    let parsed = GoUrl::parse(r);
    match &parsed {
        None => {
            let lower = r.to_ascii_lowercase();
            if lower.starts_with("http:") || lower.starts_with("https:") {
                return false;
            }
            // STRICTER: GoTrue takes an unparsable URL straight to the allow list; the host of
            // `scheme://host…`, when there is one, gets the digits-only and IP checks anyway.
            if let Some(host) = raw_authority(r).map(authority_hostname) {
                if all_digits(host) || host.parse::<IpAddr>().is_ok() {
                    return false;
                }
            }
        }
        Some(u) => {
            let host = u.hostname();
            // STRICTER: an empty hostname is never "the site's" (GoTrue compares "" == "" when
            // site_url has no host).
            if !host.is_empty()
                && host == base.hostname()
                && u.scheme == base.scheme
                && (u.port() == base.port() || is_localhost(host))
            {
                return browser_agrees(r, u);
            }
            let is_http = u.scheme == "http" || u.scheme == "https";
            if all_digits(host) {
                return false;
            }
            if let Ok(ip) = host.parse::<IpAddr>() {
                // STRICTER: GoTrue admits a loopback literal under any scheme.
                return is_http && is_loopback(ip) && browser_agrees(r, u);
            }
            if is_http && !regular_hostname(host) {
                return false;
            }
        }
    }
    let match_against = r.split('#').next().unwrap_or("");
    let authority = raw_authority(r);
    let listed = uri_allow_list
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .any(|p| pattern_allows(p, match_against, authority));
    listed && parsed.as_ref().is_none_or(|u| browser_agrees(r, u))
}

/// Whether the glob `pattern` admits `url` (without its fragment).
///
/// STRICTER: when both the URL and the pattern have an authority (`scheme://authority/…`), the
/// pattern's authority part must also match the URL's authority on its own. A glob matches the
/// whole string, so without this `https://**.example.com/**` admits
/// `https://evil.com/.example.com/` and `https://*-x.vercel.app/**` admits
/// `https://evil?-x.vercel.app/` (host `evil`), both of which GoTrue accepts.
fn pattern_allows(pattern: &str, url: &str, authority: Option<&str>) -> bool {
    let Some(glob) = Glob::compile(pattern) else {
        return false;
    };
    if !glob.matches(url) {
        return false;
    }
    match (authority, pattern.find("://")) {
        (Some(authority), Some(i)) => {
            let pattern_authority = pattern[i + 3..].split('/').next().unwrap_or("");
            Glob::compile(pattern_authority).is_some_and(|g| g.matches(authority))
        }
        _ => true,
    }
}

/// STRICTER: for an http(s) URL, a browser (the WHATWG URL parser) must see the scheme, host
/// and port that Go's parser saw, and no user info. This refuses what the two parsers read
/// differently: numeric hosts Go takes for names (`0x7f.1`, `127.1`), IDNA, odd ports, and
/// `https://good.com@evil.com`-style user info (harmless to GoTrue's check, a phishing aid).
fn browser_agrees(raw: &str, u: &GoUrl) -> bool {
    if u.scheme != "http" && u.scheme != "https" {
        return true;
    }
    if u.userinfo {
        return false;
    }
    let Ok(w) = url::Url::parse(raw) else {
        return false;
    };
    if w.scheme() != u.scheme || !w.username().is_empty() || w.password().is_some() {
        return false;
    }
    let go_host = u.hostname();
    let same_host = match w.host() {
        Some(url::Host::Domain(d)) => d == go_host.to_ascii_lowercase(),
        Some(url::Host::Ipv4(a)) => go_host.parse::<IpAddr>() == Ok(IpAddr::V4(a)),
        Some(url::Host::Ipv6(a)) => go_host.parse::<IpAddr>() == Ok(IpAddr::V6(a)),
        None => false,
    };
    let go_port = match u.port() {
        "" => w.port_or_known_default(),
        p => p.parse::<u16>().ok(),
    };
    same_host && go_port.is_some() && go_port == w.port_or_known_default()
}

/// The scheme a browser reads (`[A-Za-z][A-Za-z0-9+.-]*:`), lower-cased.
fn browser_scheme(s: &str) -> Option<String> {
    let end = s.find(':')?;
    let scheme = &s[..end];
    let mut bytes = scheme.bytes();
    let first = bytes.next()?;
    (first.is_ascii_alphabetic()
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
    .then(|| scheme.to_ascii_lowercase())
}

/// The raw `authority` of `scheme://authority/…` (up to the first `/`, `?` or `#`).
fn raw_authority(s: &str) -> Option<&str> {
    let scheme = browser_scheme(s)?;
    let rest = s[scheme.len() + 1..].strip_prefix("//")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&rest[..end])
}

/// The host of a raw authority: without user info, port and IPv6 brackets.
fn authority_hostname(authority: &str) -> &str {
    let host = authority.rsplit('@').next().unwrap_or("");
    let host = match host.rfind(':') {
        Some(i) if valid_optional_port(&host[i..]) => &host[..i],
        _ => host,
    };
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// GoTrue's `regularHostname`: `^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$`.
fn regular_hostname(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) => {
            f.is_ascii_alphanumeric()
                && l.is_ascii_alphanumeric()
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-'))
        }
        _ => false,
    }
}

/// GoTrue's `isLocalhost` (the names whose port may differ from site_url's).
fn is_localhost(host: &str) -> bool {
    let h = host.to_ascii_lowercase();
    matches!(
        h.as_str(),
        "localhost" | "127.0.0.1" | "::1" | "0.0.0.0" | "::"
    ) || h.ends_with(".localhost")
}

/// Go's `IP.IsLoopback`: 127.0.0.0/8 (also IPv4-mapped) and ::1.
fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.octets()[0] == 127,
        IpAddr::V6(a) => {
            a.is_loopback() || a.to_ipv4_mapped().is_some_and(|v4| v4.octets()[0] == 127)
        }
    }
}

/// Go's `validOptionalPort`: empty, or `:` followed by digits only.
fn valid_optional_port(p: &str) -> bool {
    p.is_empty()
        || p.strip_prefix(':')
            .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()))
}

/// Every `%` starts a `%XX` escape.
fn valid_escapes(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if i + 2 >= b.len() || !b[i + 1].is_ascii_hexdigit() || !b[i + 2].is_ascii_hexdigit() {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

/// What GoTrue's check reads of a URL parsed by Go's `net/url` (`url.Parse`).
#[derive(Debug)]
struct GoUrl {
    /// Lower-cased, possibly empty.
    scheme: String,
    /// Whether `user@` preceded the host.
    userinfo: bool,
    /// The unescaped `host[:port]`, empty without an authority.
    host: String,
}

impl GoUrl {
    /// Go's `url.Parse`, reduced to what decides acceptance or the host. Refuses whatever Go
    /// refuses (and, STRICTER, a bracketed host that is not an IPv6 address, or a host that does
    /// not unescape to UTF-8).
    fn parse(raw: &str) -> Option<GoUrl> {
        if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return None;
        }
        let (rest, fragment) = match raw.split_once('#') {
            Some((r, f)) => (r, Some(f)),
            None => (raw, None),
        };
        if fragment.is_some_and(|f| !valid_escapes(f)) {
            return None;
        }
        let empty = GoUrl {
            scheme: String::new(),
            userinfo: false,
            host: String::new(),
        };
        if rest == "*" {
            return Some(empty);
        }
        let (scheme, rest) = go_scheme(rest)?;
        let scheme = scheme.to_ascii_lowercase();
        let rest = if rest.ends_with('?') && rest.matches('?').count() == 1 {
            &rest[..rest.len() - 1]
        } else {
            rest.split('?').next().unwrap_or("")
        };
        if !rest.starts_with('/') {
            if !scheme.is_empty() {
                // opaque (`mailto:x`, `https:evil.com`): no host
                return Some(GoUrl { scheme, ..empty });
            }
            let segment = rest.split('/').next().unwrap_or("");
            if segment.contains(':') {
                return None;
            }
        }
        let mut url = GoUrl { scheme, ..empty };
        let mut path = rest;
        if (!url.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
            let after = &rest[2..];
            let end = after.find('/').unwrap_or(after.len());
            let authority = &after[..end];
            path = &after[end..];
            let (userinfo, host) = match authority.rfind('@') {
                Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
                None => (None, authority),
            };
            url.host = go_parse_host(host)?;
            if let Some(userinfo) = userinfo {
                let valid = userinfo
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._:~!$&'()*+,;=%@".contains(&b));
                if !valid || !valid_escapes(userinfo) {
                    return None;
                }
                url.userinfo = true;
            }
        }
        valid_escapes(path).then_some(url)
    }

    /// Go's `URL.Hostname`.
    fn hostname(&self) -> &str {
        let host = match self.host.rfind(':') {
            Some(i) if valid_optional_port(&self.host[i..]) => &self.host[..i],
            _ => &self.host,
        };
        host.strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host)
    }

    /// Go's `URL.Port`.
    fn port(&self) -> &str {
        match self.host.rfind(':') {
            Some(i) if valid_optional_port(&self.host[i..]) => &self.host[i + 1..],
            _ => "",
        }
    }
}

/// Go's `getScheme`: `(scheme, rest)`, no scheme when the first `:` is not preceded by a valid
/// one; `None` for a leading `:` ("missing protocol scheme").
fn go_scheme(raw: &str) -> Option<(&str, &str)> {
    for (i, b) in raw.bytes().enumerate() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' => {
                if i == 0 {
                    return Some(("", raw));
                }
            }
            b':' => {
                if i == 0 {
                    return None;
                }
                return Some((&raw[..i], &raw[i + 1..]));
            }
            _ => return Some(("", raw)),
        }
    }
    Some(("", raw))
}

/// Go's `parseHost`: the port must be digits; `%XX` escapes only for bytes of 0x80 and above
/// (or `%25`); ASCII characters outside Go's host set refused.
fn go_parse_host(host: &str) -> Option<String> {
    if let Some(inner) = host.strip_prefix('[') {
        let close = inner.rfind(']')?;
        if !valid_optional_port(&inner[close + 1..]) {
            return None;
        }
        // STRICTER: the brackets must hold an IPv6 address (no zone)
        inner[..close].parse::<std::net::Ipv6Addr>().ok()?;
        return Some(host.to_owned());
    }
    if let Some(i) = host.rfind(':') {
        if !valid_optional_port(&host[i..]) {
            return None;
        }
    }
    let b = host.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3)?;
            let text = std::str::from_utf8(hex).ok()?;
            let v = u8::from_str_radix(text, 16).ok()?;
            if v < 0x80 && v != b'%' {
                return None;
            }
            out.push(v);
            i += 3;
        } else {
            let c = b[i];
            let allowed =
                c >= 0x80 || c.is_ascii_alphanumeric() || b"!$&'()*+,;=:[]<>\"-_.~".contains(&c);
            if !allowed {
                return None;
            }
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

// ---------------------------------------------------------------------------------------------
// Globs: gobwas/glob (v0.2.3) as GoTrue compiles them, with `.` and `/` as separators.

#[derive(Debug)]
enum Node {
    Text(Vec<char>),
    /// `*`: any run of non-separators.
    Any,
    /// `**`: any run.
    Super,
    /// `?`: one non-separator.
    Single,
    /// `[abc]`, `[a-z]`, `[!…]`: one character (separators included).
    Class {
        set: ClassSet,
        not: bool,
    },
    /// `{a,b}`
    AnyOf(Vec<Vec<Node>>),
}

#[derive(Debug)]
enum ClassSet {
    List(Vec<char>),
    Range(char, char),
}

/// A compiled glob. Patterns gobwas refuses (an unclosed `[` or `{`, an empty or reversed class)
/// do not compile; STRICTER, neither does a trailing backslash (gobwas v0.2.3 drops it).
#[derive(Debug)]
pub(crate) struct Glob(Vec<Node>);

fn is_separator(c: char) -> bool {
    c == '.' || c == '/'
}

impl Glob {
    pub(crate) fn compile(pattern: &str) -> Option<Glob> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut pos = 0;
        let seq = parse_seq(&chars, &mut pos, 0)?;
        (pos == chars.len()).then_some(Glob(seq))
    }

    /// Whether the glob matches all of `s`.
    pub(crate) fn matches(&self, s: &str) -> bool {
        let chars: Vec<char> = s.chars().collect();
        let mut start = vec![false; chars.len() + 1];
        start[0] = true;
        run_seq(&self.0, &chars, start)[chars.len()]
    }
}

/// A sequence of terms, up to the end (depth 0) or to the `,` or `}` closing an alternative.
fn parse_seq(c: &[char], pos: &mut usize, depth: usize) -> Option<Vec<Node>> {
    let mut out = Vec::new();
    while let Some(&ch) = c.get(*pos) {
        match ch {
            ',' | '}' if depth > 0 => return Some(out),
            '{' => {
                *pos += 1;
                let mut alternatives = Vec::new();
                loop {
                    alternatives.push(parse_seq(c, pos, depth + 1)?);
                    match c.get(*pos) {
                        Some(',') => *pos += 1,
                        Some('}') => {
                            *pos += 1;
                            break;
                        }
                        _ => return None,
                    }
                }
                out.push(Node::AnyOf(alternatives));
            }
            '[' => {
                *pos += 1;
                out.push(parse_class(c, pos)?);
            }
            '?' => {
                *pos += 1;
                out.push(Node::Single);
            }
            '*' => {
                *pos += 1;
                if c.get(*pos) == Some(&'*') {
                    *pos += 1;
                    out.push(Node::Super);
                } else {
                    out.push(Node::Any);
                }
            }
            _ => {
                let mut text = Vec::new();
                while let Some(&ch) = c.get(*pos) {
                    if ch == '\\' {
                        text.push(*c.get(*pos + 1)?);
                        *pos += 2;
                        continue;
                    }
                    if matches!(ch, '?' | '*' | '[' | '{') || (depth > 0 && matches!(ch, ',' | '}'))
                    {
                        break;
                    }
                    text.push(ch);
                    *pos += 1;
                }
                if !text.is_empty() {
                    out.push(Node::Text(text));
                }
            }
        }
    }
    // an unclosed `{`
    (depth == 0).then_some(out)
}

/// The inside of `[…]`, after the `[`, as gobwas's lexer reads it.
fn parse_class(c: &[char], pos: &mut usize) -> Option<Node> {
    let mut not = false;
    let mut lo = None;
    let mut hi = None;
    let mut list = Vec::new();
    let (mut want_hi, mut want_close) = (false, false);
    loop {
        let r = *c.get(*pos)?;
        *pos += 1;
        if want_close {
            if r != ']' {
                return None;
            }
            break;
        }
        if want_hi {
            hi = Some(r);
            want_close = true;
            continue;
        }
        if !not && r == '!' {
            not = true;
            continue;
        }
        if c.get(*pos) == Some(&'-') {
            *pos += 1;
            lo = Some(r);
            want_hi = true;
            continue;
        }
        *pos -= 1;
        while let Some(&ch) = c.get(*pos) {
            if ch == '\\' {
                list.push(*c.get(*pos + 1)?);
                *pos += 2;
                continue;
            }
            if ch == ']' {
                break;
            }
            list.push(ch);
            *pos += 1;
        }
        want_close = true;
    }
    let set = match (lo, hi, list.is_empty()) {
        (Some(lo), Some(hi), true) if lo != '\0' && hi != '\0' && lo <= hi => {
            ClassSet::Range(lo, hi)
        }
        (None, None, false) => ClassSet::List(list),
        _ => return None,
    };
    Some(Node::Class { set, not })
}

/// The positions reachable after `nodes`, from the positions `start` (a set over 0..=len).
fn run_seq(nodes: &[Node], s: &[char], start: Vec<bool>) -> Vec<bool> {
    let mut set = start;
    for node in nodes {
        if !set.contains(&true) {
            break;
        }
        set = step(node, s, &set);
    }
    set
}

fn step(node: &Node, s: &[char], set: &[bool]) -> Vec<bool> {
    let n = s.len();
    let mut out = vec![false; n + 1];
    match node {
        Node::Text(t) => {
            for i in 0..=n {
                if set[i] && s[i..].starts_with(t) {
                    out[i + t.len()] = true;
                }
            }
        }
        Node::Any => {
            let mut active = false;
            for i in 0..=n {
                active |= set[i];
                out[i] = active;
                if i < n && is_separator(s[i]) {
                    active = false;
                }
            }
        }
        Node::Super => {
            if let Some(first) = set.iter().position(|&b| b) {
                out[first..].fill(true);
            }
        }
        Node::Single => {
            for i in 0..n {
                out[i + 1] = set[i] && !is_separator(s[i]);
            }
        }
        Node::Class { set: class, not } => {
            for i in 0..n {
                let inside = match class {
                    ClassSet::List(list) => list.contains(&s[i]),
                    ClassSet::Range(lo, hi) => (*lo..=*hi).contains(&s[i]),
                };
                out[i + 1] = set[i] && inside != *not;
            }
        }
        Node::AnyOf(alternatives) => {
            for alternative in alternatives {
                let reached = run_seq(alternative, s, set.to_vec());
                for (o, r) in out.iter_mut().zip(reached) {
                    *o |= r;
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Building the redirects of `/verify`.

/// Go's `url.QueryEscape`: unreserved characters as they are, space as `+`, the rest `%XX`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
    out
}

/// Go's `url.Values.Encode`: `key=value` pairs joined by `&`, sorted by key (stable, so the
/// values of one key keep their order).
fn encode_pairs(pairs: &[(&str, &str)]) -> String {
    let mut sorted: Vec<&(&str, &str)> = pairs.iter().collect();
    sorted.sort_by_key(|(k, _)| *k);
    sorted
        .iter()
        .map(|(k, v)| format!("{}={}", query_escape(k), query_escape(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The decoded name of a `name=value` query parameter (form encoding; lossy on bad escapes).
fn decoded_name(param: &str) -> String {
    let name = param.split('=').next().unwrap_or("");
    let b = name.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if b
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) =>
            {
                let h = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("00");
                out.push(u8::from_str_radix(h, 16).unwrap_or(0));
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `base` with its fragment replaced by the form-encoded `pairs` (sorted by key, as GoTrue's
/// `url.Values.Encode`): the implicit-flow redirect `…#access_token=…&…&type=signup` and the
/// error redirect `…#error=…&error_code=…&error_description=…`.
///
/// GoTrue appends `#…` to the raw URL, so a `redirect_to` that already had a fragment ends up
/// with two `#`; here the old fragment is dropped. With no pairs, `base` without its fragment.
pub fn with_fragment(base: &str, pairs: &[(&str, &str)]) -> String {
    let without = base.split('#').next().unwrap_or("");
    if pairs.is_empty() {
        return without.to_owned();
    }
    format!("{without}#{}", encode_pairs(pairs))
}

/// `base` with the form-encoded `pairs` added to its query, before any fragment: the PKCE
/// redirect `…?code=…`. As GoTrue's `Query().Set`, an existing parameter of the same name is
/// replaced; the other existing parameters are kept as they were written (GoTrue re-encodes and
/// sorts them), the new ones follow, sorted by key.
pub fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return base.to_owned();
    }
    let (before_fragment, fragment) = match base.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (base, None),
    };
    let (path, query) = match before_fragment.split_once('?') {
        Some((p, q)) => (p, q),
        None => (before_fragment, ""),
    };
    let mut params: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let name = decoded_name(p);
            !pairs.iter().any(|(k, _)| *k == name)
        })
        .map(str::to_owned)
        .collect();
    params.push(encode_pairs(pairs));
    let mut out = format!("{path}?{}", params.join("&"));
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SITE: &str = "https://example.com";

    fn allowed(r: &str, list: &str) -> bool {
        allowed_target(Some(r), SITE, list) == r
    }

    #[test]
    fn missing_or_empty_falls_back() {
        assert_eq!(allowed_target(None, SITE, "**"), SITE);
        assert_eq!(allowed_target(Some(""), SITE, "**"), SITE);
    }

    #[test]
    fn same_site_is_allowed() {
        for r in [
            "https://example.com",
            "https://example.com/",
            "https://example.com/welcome?next=%2Fhome#top",
            "HTTPS://example.com/x",
        ] {
            assert!(allowed(r, ""), "{r}");
        }
        // another scheme or port is not the site
        for r in [
            "http://example.com/",
            "https://example.com:8443/",
            "https://example.com:443/",
            "https://www.example.com/",
            "https://EXAMPLE.com/",
        ] {
            assert!(!allowed(r, ""), "{r}");
        }
    }

    #[test]
    fn localhost_site_port_may_differ() {
        let site = "http://localhost:3000";
        for r in [
            "http://localhost:3000/cb",
            "http://localhost:5173/cb",
            "http://localhost/",
        ] {
            assert_eq!(allowed_target(Some(r), site, ""), r);
        }
        assert_eq!(
            allowed_target(Some("https://localhost:3000/"), site, ""),
            site
        );
    }

    #[test]
    fn loopback_literals_are_allowed_over_http() {
        for r in [
            "http://127.0.0.1:12345/path",
            "http://[::1]:3000/cb",
            "http://[0:0:0:0:0:0:0:1]:12345/path",
            "https://127.0.0.2/",
        ] {
            assert!(allowed(r, ""), "{r}");
        }
        for r in [
            "http://10.0.0.1/",
            "http://0.0.0.0:3000/",
            "http://[65e7:9410:d8b6:e227:58cd:e55b:8fc0:206d]/",
            "myapp://127.0.0.1/cb",
            "javascript://127.0.0.1/%0aalert(1)",
            "http://127.0.0.1@evil.com/",
        ] {
            assert!(!allowed(r, "**"), "{r}");
        }
    }

    #[test]
    fn gotrue_get_referrer_cases() {
        // internal/utilities/request_test.go, TestGetReferrer
        let list =
            "http://localhost:8000/*,http://*.localhost:8000/*,http://*:12345/*,http://**:12345/*";
        for (r, ok) in [
            ("http://localhost:8000/path", true),
            ("http://localhost:3000", false),
            ("http://localhost:8000", false),
            ("http://localhost:8000/path/to/page", false),
            ("http://localhost:8000/path?param=1", true),
            ("http://123?.localhost:8000/path", false),
            ("http://123.123.123.123?localhost:8000/path", false),
            (
                "http://[65e7:9410:d8b6:e227:58cd:e55b:8fc0:206d]?localhost:8000/path",
                false,
            ),
            (
                "http://65e7:9410:d8b6:e227:58cd:e55b:8fc0:206d?localhost:8000/path",
                false,
            ),
            ("http://127.0.0.1:12345/path", true),
            ("http://[0:0:0:0:0:0:0:1]:12345/path", true),
            ("http://a.localhost:8000/x", true),
        ] {
            assert_eq!(allowed(r, list), ok, "{r}");
        }
    }

    #[test]
    fn allow_list_globs() {
        let list = "http://localhost:3000/**,https://*.example.org/**,myapp://callback,com.my_app.example://cb/*,exp://**";
        for r in [
            "http://localhost:3000/",
            "http://localhost:3000/a/b/c?x=1#frag",
            "https://app.example.org/",
            "https://app.example.org/deep/path",
            "myapp://callback",
            "com.my_app.example://cb/x",
            "exp://localhost:19000/--/cb",
        ] {
            assert!(allowed(r, list), "{r}");
        }
        for r in [
            "http://localhost:3000",
            "http://localhost:3001/",
            "https://example.org/",
            "https://a.b.example.org/",
            "https://app.example.org",
            "myapp://callback/x",
            "myapp://evil.com",
            "com.my_app.example://cb/x/y",
            // an IP literal never reaches the allow list: loopback or nothing (GoTrue)
            "exp://192.168.1.10:19000/--/cb",
        ] {
            assert!(!allowed(r, list), "{r}");
        }
        // the fragment is not matched, but kept
        assert!(allowed("myapp://callback#a/b.c", list));
    }

    #[test]
    fn allow_list_entries_are_trimmed_and_bad_globs_ignored() {
        assert!(allowed(
            "https://a.example.org/",
            " https://*.example.org/** , x"
        ));
        assert!(!allowed(
            "https://a.example.org/",
            "https://[.example.org/**"
        ));
        // the list is split at commas before the globs are read, so `{a,b}` cannot be used
        // (GoTrue would not even start with such a list)
        assert!(!allowed(
            "https://a.example.org/",
            "https://{a,b}.example.org/**"
        ));
        assert!(allowed(
            "https://a.example.org/",
            "https://{a}.example.org/**"
        ));
    }

    #[test]
    fn relative_paths_need_the_allow_list() {
        assert!(!allowed("/dashboard", ""));
        assert!(!allowed("dashboard", "https://**"));
        assert!(allowed("/dashboard", "/*"));
    }

    /// Open-redirect tricks: with a realistic allow list, every one falls back to site_url.
    #[test]
    fn hostile_inputs_fall_back() {
        let list = "http://localhost:3000/**,https://*.example.org/**,https://**.trusted.net/**,https://*-team.vercel.app/**,myapp://callback";
        for r in HOSTILE {
            assert_eq!(allowed_target(Some(r), SITE, list), SITE, "{r:?}");
        }
    }

    pub(crate) const HOSTILE: &[&str] = &[
        "https://evil.com",
        "//evil.com",
        "//evil.com/x",
        "///evil.com",
        "////evil.com",
        "/\\evil.com",
        "\\\\evil.com",
        "\\/evil.com",
        "https:evil.com",
        "https:/evil.com",
        "https:\\\\evil.com",
        "https:/\\evil.com",
        "https://example.com@evil.com",
        "https://example.com:pass@evil.com",
        "https://example.com%2F@evil.com",
        "https://example.com%40evil.com",
        "https://evil.com\\@example.com",
        "https://evil.com\\.example.com",
        "https://evil.com#@example.com",
        "https://evil.com?.example.org/",
        "https://evil.com/.trusted.net/",
        "https://evil.com?.trusted.net/",
        "https://evil?-team.vercel.app/",
        "https://evil#-team.vercel.app/",
        "https://example.com.evil.com/",
        "https://evilexample.com/",
        "https://evil.com/https://example.com",
        "https://exa%6dple.com/",
        "https://example%2ecom/",
        "https://evil.com%00.example.org/",
        "https://evil.com%23.example.org/",
        "https://evil.com%E3%80%82example.org/",
        "https://evil.com\u{3002}example.org/",
        "https://evil.com\u{ff0f}x.example.org/",
        "https://xn--exmple-cua.com/",
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "javascript://example.com/%0aalert(1)",
        "javascript://127.0.0.1/%0aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        " https://example.com",
        "https://example.com ",
        "\thttps://2130706433/",
        "https://example.com/\n",
        "https://example.com\r\n@evil.com",
        "https://example.com\u{0}",
        "https://example.com\u{85}/",
        "https://2130706433/",
        "http://2130706433:3000/",
        "http://0x7f000001/",
        "http://0x7f.1/",
        "http://127.1/",
        "http://017700000001/",
        "https://[::ffff:a9fe:a9fe]/",
        "https://169.254.169.254/",
        "http://localhost:3000@evil.com/",
        "http://localhost:3000.evil.com/",
        "http://localhost:3000\\@evil.com/",
        "http://evil.com:3000/",
        "http://localhost:3000%2F@evil.com/",
        "myapp://evil.com",
        "myapp://callback@evil.com",
        "https://a.b.example.org/",
        "https://example.com:99999/",
        "https://example.com:0x1bb/",
        "https://[example.com]/",
        "https://[::1%25eth0]/",
        "https://example.com/%zz",
        "https://example.com/#%zz",
        ":https://example.com",
        "%68ttps://evil.com",
    ];

    /// A small deterministic generator of URL-ish strings (xorshift), no extra dependency.
    struct Gen(u64);
    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
            xs[(self.next() % xs.len() as u64) as usize]
        }
    }

    const PIECES: &[&str] = &[
        "https://app.example.org/",
        "http://localhost:3000/",
        "https://example.com/",
        "http://127.0.0.1:8080/",
        "https://",
        "http://",
        "myapp://",
        "javascript:",
        "//",
        "/",
        "\\",
        ":",
        "@",
        "?",
        "#",
        ".",
        "*",
        "%2e",
        "%2F",
        "%40",
        "%00",
        "%E3%80%82",
        "%",
        "example.com",
        "example.org",
        "app",
        "evil.com",
        "localhost",
        "3000",
        "443",
        "127.0.0.1",
        "[::1]",
        "2130706433",
        "0x7f",
        "-team.vercel.app",
        "trusted.net",
        "x",
        " ",
        "\t",
        "é",
        "\u{ff0f}",
        "[",
        "]",
        "{",
        "}",
        ",",
    ];

    /// Whatever the input, the answer is site_url or the input itself; and an accepted http(s)
    /// input goes (as a browser parses it) to the site, a loopback address, or a host one of
    /// the allow-list entries names.
    #[test]
    fn property_only_site_or_input_and_only_listed_hosts() {
        let listed = "http://localhost:3000/**,https://*.example.org/**,https://**.trusted.net/**,https://*-team.vercel.app/**,myapp://callback";
        let catch_all = "**";
        let mut g = Gen(0x5eed_1234_abcd_ef01);
        let mut accepted = [0; 3];
        for _ in 0..20_000 {
            let n = 1 + g.next() % 8;
            let input: String = (0..n).map(|_| g.pick(PIECES)).collect();
            for (i, list) in [listed, "", catch_all].into_iter().enumerate() {
                let out = allowed_target(Some(&input), SITE, list);
                assert!(out == SITE || out == input, "{input:?} -> {out:?}");
                if out != input || out == SITE {
                    continue;
                }
                accepted[i] += 1;
                assert!(!input.contains(['\\', ' ', '\t']), "{input:?}");
                assert!(!input.starts_with("//"), "{input:?}");
                let Ok(w) = url::Url::parse(&input) else {
                    continue;
                };
                assert!(
                    !BLOCKED_SCHEMES.contains(&w.scheme()),
                    "{input:?} has a blocked scheme"
                );
                if w.scheme() != "http" && w.scheme() != "https" || list == catch_all {
                    continue;
                }
                assert!(
                    w.username().is_empty() && w.password().is_none(),
                    "{input:?}"
                );
                let host = w.host_str().unwrap_or("");
                let loopback = match w.host() {
                    Some(url::Host::Ipv4(a)) => a.is_loopback(),
                    Some(url::Host::Ipv6(a)) => {
                        a.is_loopback() || a.to_ipv4_mapped().is_some_and(|v| v.is_loopback())
                    }
                    _ => false,
                };
                let single_label = |suffix: &str| {
                    host.strip_suffix(suffix)
                        .is_some_and(|l| !l.is_empty() && !l.contains('.'))
                };
                let ok = host == "example.com"
                    || loopback
                    || !list.is_empty()
                        && (host == "localhost" && w.port() == Some(3000)
                            || single_label(".example.org")
                            || host.ends_with(".trusted.net")
                            || single_label("-team.vercel.app"));
                assert!(ok, "{input:?} went to {host:?} with {list:?}");
            }
        }
        assert!(accepted.iter().all(|&n| n > 0), "accepted: {accepted:?}");
    }

    #[test]
    fn globs_follow_gobwas() {
        let m = |p: &str, s: &str| Glob::compile(p).unwrap().matches(s);
        assert!(m("*.github.com", "api.github.com"));
        assert!(!m("*.github.com", "api.gi.hub.com"));
        assert!(m("api.**.com", "api.gi.hub.com"));
        assert!(m("?at", "cat"));
        assert!(!m("?at", "at"));
        assert!(!m("?at", ".at"));
        assert!(m("[abc]at", "bat"));
        assert!(!m("[!abc]at", "bat"));
        assert!(m("[!abc]at", "/at"));
        assert!(m("[a-c]at", "cat"));
        assert!(!m("[a-c]at", "dat"));
        assert!(m("{cat,dog}s", "dogs"));
        assert!(m("{*.a,b}", "x.a") && m("{*.a,b}", "b"));
        assert!(!m("{*.a,b}", "x.y.a") && !m("{*.a,b}", "c"));
        assert!(m("a\\*b", "a*b"));
        assert!(!m("a\\*b", "axb"));
        assert!(m("a}b]c,d", "a}b]c,d"));
        assert!(m("", ""));
        assert!(!m("", "x"));
        assert!(m("**", ""));
        assert!(m("*", "javascript:alert(1)"));
        assert!(m("http://localhost:3000/**", "http://localhost:3000/"));
        assert!(!m("http://localhost:3000/**", "http://localhost:3000"));
        assert!(m("https://*.example.com", "https://a.example.com"));
        assert!(!m("https://*.example.com", "https://a.b.example.com"));
        for bad in [
            "[", "[]", "[!]", "[b-a]", "{a,b", "a\\", "[a", "[a-", "[a-b",
        ] {
            assert!(Glob::compile(bad).is_none(), "{bad:?}");
        }
        assert!(Glob::compile("[--a]").is_some());
    }

    #[test]
    fn glob_matching_stays_linear_enough() {
        let pattern = "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let text = "a".repeat(MAX_REDIRECT_LEN);
        let g = Glob::compile(pattern).unwrap();
        let t = std::time::Instant::now();
        assert!(!g.matches(&text));
        assert!(t.elapsed().as_secs() < 5);
    }

    #[test]
    fn go_parser_reads_hosts_like_go() {
        let u = GoUrl::parse("https://user:p@Example.com:8443/x?y#z").unwrap();
        assert_eq!(
            (u.scheme.as_str(), u.hostname(), u.port(), u.userinfo),
            ("https", "Example.com", "8443", true)
        );
        let u = GoUrl::parse("http://[::1]:3000/").unwrap();
        assert_eq!((u.hostname(), u.port()), ("::1", "3000"));
        let u = GoUrl::parse("com.my_app://cb");
        assert!(u.is_none(), "Go refuses a colon in the first path segment");
        assert!(GoUrl::parse("https://exa%6dple.com/").is_none());
        assert_eq!(
            GoUrl::parse("https://ex%C3%A4mple.com/")
                .unwrap()
                .hostname(),
            "exämple.com"
        );
        assert!(GoUrl::parse("https://example.com:80x/").is_none());
        assert!(GoUrl::parse("https://a b.com/").is_none());
        assert!(GoUrl::parse("https://example.com/%zz").is_none());
        assert!(GoUrl::parse("https://example.com/%4").is_none());
        assert!(GoUrl::parse("https://example.com/%41").is_some());
        assert_eq!(GoUrl::parse("https:evil.com").unwrap().hostname(), "");
        assert_eq!(GoUrl::parse("//evil.com/x").unwrap().hostname(), "evil.com");
        assert_eq!(GoUrl::parse("///evil.com/x").unwrap().hostname(), "");
    }

    #[test]
    fn fragment_replaces_and_query_appends() {
        let pairs = [
            ("type", "signup"),
            ("access_token", "a.b.c"),
            ("expires_in", "3600"),
            ("refresh_token", "r t"),
        ];
        assert_eq!(
            with_fragment("https://app.example/cb?x=1#old", &pairs),
            "https://app.example/cb?x=1#access_token=a.b.c&expires_in=3600&refresh_token=r+t&type=signup"
        );
        assert_eq!(with_fragment("myapp://cb", &[("sb", "")]), "myapp://cb#sb=");
        assert_eq!(with_fragment("https://a/#x", &[]), "https://a/");
        assert_eq!(
            with_fragment(
                "https://a/",
                &[("error_description", "Email link is invalid or has expired")]
            ),
            "https://a/#error_description=Email+link+is+invalid+or+has+expired"
        );
        assert_eq!(
            with_query("https://app.example/cb", &[("code", "c-1")]),
            "https://app.example/cb?code=c-1"
        );
        assert_eq!(
            with_query(
                "https://app.example/cb?next=%2Fhome&code=old&x#frag",
                &[("code", "new")]
            ),
            "https://app.example/cb?next=%2Fhome&x&code=new#frag"
        );
        assert_eq!(
            with_query("https://a/?c%6Fde=old&co+de=keep", &[("code", "n")]),
            "https://a/?co+de=keep&code=n"
        );
        assert_eq!(
            with_query("https://a/?", &[("b", "2"), ("a", "1")]),
            "https://a/?a=1&b=2"
        );
        assert_eq!(with_query("https://a/#f", &[]), "https://a/#f");
    }

    #[test]
    fn query_escape_is_gos() {
        assert_eq!(
            query_escape("a b+c&d=e/f?g#h~i_j.k-l*m"),
            "a+b%2Bc%26d%3De%2Ff%3Fg%23h~i_j.k-l%2Am"
        );
        assert_eq!(query_escape("é"), "%C3%A9");
    }
}
