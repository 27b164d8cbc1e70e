//! Mail and SMS texts: GoTrue's template variables, its default subjects, and bodies in the
//! same shape as its defaults (the wording here is our own).
//!
//! GoTrue renders subjects and bodies with Go's `html/template`, so every value is HTML-escaped
//! (`&` `<` `>` `"` `'` `+` and NUL, as Go's `htmlEscaper`), in the subject too. SMS texts go
//! through `text/template`: no escaping.

use serde_json::Value;

use crate::redirect::query_escape;

/// GoTrue's default SMS text.
pub const DEFAULT_SMS_TEMPLATE: &str = "Your code is {{ .Code }}";

/// The kinds of mail, as the send-email hook names them (`email_action_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmailAction {
    Signup,
    Invite,
    Magiclink,
    Recovery,
    EmailChangeCurrent,
    EmailChangeNew,
    Reauthentication,
    /// A code for an address not confirmed yet (GoTrue sends it as a sign-up confirmation).
    Email,
}

impl EmailAction {
    pub const ALL: [EmailAction; 8] = [
        EmailAction::Signup,
        EmailAction::Invite,
        EmailAction::Magiclink,
        EmailAction::Recovery,
        EmailAction::EmailChangeCurrent,
        EmailAction::EmailChangeNew,
        EmailAction::Reauthentication,
        EmailAction::Email,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EmailAction::Signup => "signup",
            EmailAction::Invite => "invite",
            EmailAction::Magiclink => "magiclink",
            EmailAction::Recovery => "recovery",
            EmailAction::EmailChangeCurrent => "email_change_current",
            EmailAction::EmailChangeNew => "email_change_new",
            EmailAction::Reauthentication => "reauthentication",
            EmailAction::Email => "email",
        }
    }

    /// The template's name in Supabase's settings (`mailer_subjects_<key>`,
    /// `mailer_templates_<key>_content`). A code for an unconfirmed address uses the
    /// confirmation template: GoTrue's `/otp` sends a new or unconfirmed user the sign-up mail.
    pub fn template_key(self) -> &'static str {
        match self {
            EmailAction::Signup | EmailAction::Email => "confirmation",
            EmailAction::Invite => "invite",
            EmailAction::Magiclink => "magic_link",
            EmailAction::Recovery => "recovery",
            EmailAction::EmailChangeCurrent | EmailAction::EmailChangeNew => "email_change",
            EmailAction::Reauthentication => "reauthentication",
        }
    }

    /// The `type` of the link's `/verify?…&type=…` (GoTrue's mailer). A reauthentication mail
    /// has no link (only the code, used as `nonce`); its type is given for completeness.
    pub fn verify_type(self) -> &'static str {
        match self {
            EmailAction::Signup | EmailAction::Email => "signup",
            EmailAction::Invite => "invite",
            EmailAction::Magiclink => "magiclink",
            EmailAction::Recovery => "recovery",
            EmailAction::EmailChangeCurrent | EmailAction::EmailChangeNew => "email_change",
            EmailAction::Reauthentication => "reauthentication",
        }
    }

    /// GoTrue's default subject.
    pub fn default_subject(self) -> &'static str {
        match self.template_key() {
            "confirmation" => "Confirm Your Email",
            "invite" => "You have been invited",
            "magic_link" => "Your Magic Link",
            "recovery" => "Reset Your Password",
            "email_change" => "Confirm Email Change",
            _ => "Confirm reauthentication",
        }
    }

    /// The default body: the link and the code, where GoTrue's default has them.
    pub fn default_body(self) -> &'static str {
        match self.template_key() {
            "confirmation" => CONFIRMATION_BODY,
            "invite" => INVITE_BODY,
            "magic_link" => MAGIC_LINK_BODY,
            "recovery" => RECOVERY_BODY,
            "email_change" => EMAIL_CHANGE_BODY,
            _ => REAUTHENTICATION_BODY,
        }
    }
}

const CONFIRMATION_BODY: &str = r#"<h2>Confirm your email address</h2>

<p>Open this link to confirm your email address:</p>
<p><a href="{{ .ConfirmationURL }}">Confirm my email address</a></p>
<p>Or enter this code: {{ .Token }}</p>
"#;

const INVITE_BODY: &str = r#"<h2>You have been invited</h2>

<p>You have been invited to create an account on {{ .SiteURL }}. Open this link to accept:</p>
<p><a href="{{ .ConfirmationURL }}">Accept the invitation</a></p>
<p>Or enter this code: {{ .Token }}</p>
"#;

const MAGIC_LINK_BODY: &str = r#"<h2>Your sign-in link</h2>

<p>Open this link to sign in:</p>
<p><a href="{{ .ConfirmationURL }}">Sign in</a></p>
<p>Or enter this code: {{ .Token }}</p>
"#;

const RECOVERY_BODY: &str = r#"<h2>Reset your password</h2>

<p>Open this link to choose a new password:</p>
<p><a href="{{ .ConfirmationURL }}">Reset my password</a></p>
<p>Or enter this code: {{ .Token }}</p>
"#;

const EMAIL_CHANGE_BODY: &str = r#"<h2>Confirm the change of your email address</h2>

<p>Open this link to confirm changing your email address from {{ .Email }} to {{ .NewEmail }}:</p>
<p><a href="{{ .ConfirmationURL }}">Change my email address</a></p>
<p>Or enter this code: {{ .Token }}</p>
"#;

const REAUTHENTICATION_BODY: &str = r#"<h2>Confirm it is you</h2>

<p>Enter this code: {{ .Token }}</p>
"#;

/// The subject and body templates to render: the configured ones when set and not empty
/// (GoTrue ignores an empty override), else the defaults.
pub fn subject_and_body<'a>(
    action: EmailAction,
    subject_override: Option<&'a str>,
    body_override: Option<&'a str>,
) -> (&'a str, &'a str) {
    let pick = |o: Option<&'a str>, default: &'static str| match o {
        Some(s) if !s.is_empty() => s,
        _ => default,
    };
    (
        pick(subject_override, action.default_subject()),
        pick(body_override, action.default_body()),
    )
}

/// The values a mail template can use.
#[derive(Clone, Copy, Debug)]
pub struct EmailVars<'a> {
    pub confirmation_url: &'a str,
    pub token: &'a str,
    pub token_hash: &'a str,
    pub site_url: &'a str,
    pub email: &'a str,
    pub new_email: &'a str,
    pub redirect_to: &'a str,
    /// The user's `user_metadata` (`{{ .Data.key }}`).
    pub data: &'a Value,
}

/// Renders Supabase's Go-template variables: `{{ .ConfirmationURL }}`, `{{ .Token }}`,
/// `{{ .TokenHash }}`, `{{ .SiteURL }}`, `{{ .Email }}`, `{{ .NewEmail }}`, `{{ .RedirectTo }}`,
/// `{{ .Data }}` and `{{ .Data.a.b }}` (a string as it is, another JSON value as its JSON text,
/// null or missing as nothing), with or without spaces inside the braces. Every value is
/// HTML-escaped. Anything else between `{{ }}` (`if`, `range`, pipelines, unknown names) is
/// left as written.
pub fn render(template: &str, vars: &EmailVars) -> String {
    substitute(template, |expr| {
        let path = field_path(expr)?;
        let value = match path.as_slice() {
            ["ConfirmationURL"] => vars.confirmation_url.to_owned(),
            ["Token"] => vars.token.to_owned(),
            ["TokenHash"] => vars.token_hash.to_owned(),
            ["SiteURL"] => vars.site_url.to_owned(),
            ["Email"] => vars.email.to_owned(),
            ["NewEmail"] => vars.new_email.to_owned(),
            ["RedirectTo"] => vars.redirect_to.to_owned(),
            ["Data", keys @ ..] => {
                let mut v = vars.data;
                for key in keys {
                    match v.get(key) {
                        Some(next) => v = next,
                        None => return Some(String::new()),
                    }
                }
                match v {
                    Value::Null => String::new(),
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                }
            }
            _ => return None,
        };
        Some(html_escape(&value))
    })
}

/// An SMS text: `{{ .Code }}` replaced by the code (not escaped: GoTrue uses `text/template`).
/// An empty template is GoTrue's default.
pub fn render_sms(template: &str, code: &str) -> String {
    let template = if template.is_empty() {
        DEFAULT_SMS_TEMPLATE
    } else {
        template
    };
    substitute(template, |expr| {
        (field_path(expr)?.as_slice() == ["Code"]).then(|| code.to_owned())
    })
}

/// The link of a mail: `<api_external_url>/verify?token=…&type=…&redirect_to=…`, each value
/// query-escaped. GoTrue joins `/verify` to the external URL's path (a trailing `/` is not
/// doubled). GoTrue leaves `redirect_to` unescaped when it holds none of `&`, `=` and `#`; it
/// is always escaped here, so that a `%` or `+` in it survives the round trip.
pub fn confirmation_url(
    api_external_url: &str,
    token_hash: &str,
    verify_type: &str,
    redirect_to: &str,
) -> String {
    format!(
        "{}/verify?token={}&type={}&redirect_to={}",
        api_external_url.trim_end_matches('/'),
        query_escape(token_hash),
        query_escape(verify_type),
        query_escape(redirect_to)
    )
}

/// Go's `html/template` escaping of a value in text (and, for these characters, in attributes).
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\0' => out.push('\u{FFFD}'),
            '"' => out.push_str("&#34;"),
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&#39;"),
            '+' => out.push_str("&#43;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// `.A.b.c` (Go template field chain, optional spaces around) as `["A", "b", "c"]`.
fn field_path(expr: &str) -> Option<Vec<&str>> {
    let expr = expr.trim_matches(|c: char| c == ' ' || c == '\t' || c == '\r' || c == '\n');
    let rest = expr.strip_prefix('.')?;
    let parts: Vec<&str> = rest.split('.').collect();
    let identifier = |p: &&str| {
        let mut chars = p.chars();
        chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
            && chars.all(|c| c.is_alphanumeric() || c == '_')
    };
    parts.iter().all(identifier).then_some(parts)
}

/// Replaces each `{{ expr }}` for which `resolve` answers; leaves the others as written.
fn substitute(template: &str, resolve: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            out.push_str(&rest[open..]);
            return out;
        };
        let expr = &after[..close];
        match resolve(expr) {
            Some(value) => out.push_str(&value),
            None => {
                out.push_str("{{");
                out.push_str(expr);
                out.push_str("}}");
            }
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(data: &Value) -> EmailVars<'_> {
        EmailVars {
            confirmation_url: "https://auth.example/auth/v1/verify?token=pkce_ab&type=signup&redirect_to=https%3A%2F%2Fapp.example%2Fcb",
            token: "123456",
            token_hash: "abc123",
            site_url: "https://app.example",
            email: "a+b@example.com",
            new_email: "new@example.com",
            redirect_to: "https://app.example/cb?x=1&y=2",
            data,
        }
    }

    #[test]
    fn actions_round_trip_and_map_as_gotrue() {
        for a in EmailAction::ALL {
            assert_eq!(EmailAction::parse(a.as_str()), Some(a));
        }
        assert_eq!(EmailAction::parse("sms"), None);
        assert_eq!(EmailAction::parse("Signup"), None);
        assert_eq!(EmailAction::Email.template_key(), "confirmation");
        assert_eq!(EmailAction::Magiclink.template_key(), "magic_link");
        assert_eq!(
            EmailAction::EmailChangeCurrent.template_key(),
            "email_change"
        );
        assert_eq!(EmailAction::EmailChangeNew.verify_type(), "email_change");
        assert_eq!(EmailAction::Email.verify_type(), "signup");
        assert_eq!(EmailAction::Magiclink.verify_type(), "magiclink");
    }

    #[test]
    fn defaults_carry_the_link_and_the_code() {
        for a in EmailAction::ALL {
            let (subject, body) = subject_and_body(a, None, Some(""));
            assert!(!subject.is_empty());
            assert!(body.contains("{{ .Token }}"), "{a:?}");
            assert_eq!(
                body.contains("{{ .ConfirmationURL }}"),
                a != EmailAction::Reauthentication,
                "{a:?}"
            );
            let rendered = render(body, &vars(&Value::Null));
            assert!(!rendered.contains("{{"), "{a:?}: {rendered}");
            assert!(rendered.contains("123456"));
        }
        assert_eq!(
            subject_and_body(
                EmailAction::Signup,
                Some("Hi {{ .Email }}"),
                Some("<b>x</b>")
            ),
            ("Hi {{ .Email }}", "<b>x</b>")
        );
        assert_eq!(EmailAction::Signup.default_subject(), "Confirm Your Email");
    }

    #[test]
    fn renders_every_variable_escaped() {
        let data =
            json!({"name": "Ann <3", "n": 2, "deep": {"k": "v"}, "nul": null, "list": [1, "a"]});
        let v = vars(&data);
        let t = "{{ .ConfirmationURL }}|{{.Token}}|{{ .TokenHash}}|{{.SiteURL }}|{{ .Email }}|{{ .NewEmail }}|{{ .RedirectTo }}|{{ .Data.name }}|{{ .Data.n }}|{{ .Data.deep.k }}|{{ .Data.deep }}|{{ .Data.missing }}|{{ .Data.nul }}|{{ .Data.list }}|{{\t.Token\n}}";
        assert_eq!(
            render(t, &v),
            "https://auth.example/auth/v1/verify?token=pkce_ab&amp;type=signup&amp;redirect_to=https%3A%2F%2Fapp.example%2Fcb\
             |123456|abc123|https://app.example|a&#43;b@example.com|new@example.com\
             |https://app.example/cb?x=1&amp;y=2|Ann &lt;3|2|v|{&#34;k&#34;:&#34;v&#34;}|||[1,&#34;a&#34;]|123456"
        );
        let data = json!("<script>'x'</script>\0");
        assert_eq!(
            render("{{ .Data }}", &vars(&data)),
            "&lt;script&gt;&#39;x&#39;&lt;/script&gt;\u{FFFD}"
        );
    }

    #[test]
    fn leaves_other_constructs_alone() {
        let data = json!({});
        let v = vars(&data);
        for t in [
            "{{ if .Token }}yes{{ end }}",
            "{{ .Unknown }}",
            "{{ .Token.X }}",
            "{{ .Token | html }}",
            "{{ Token }}",
            "{{ . }}",
            "{{}}",
            "{{ .Data..x }}",
            "{{- .Token -}}",
            "{{ .Token ",
            "{{",
            "}}",
            "{ { .Token } }",
        ] {
            let out = render(t, &v);
            assert!(
                !out.contains("123456") || t.contains("if"),
                "{t:?} -> {out:?}"
            );
        }
        assert_eq!(
            render("{{ if .Token }}yes{{ end }}", &v),
            "{{ if .Token }}yes{{ end }}"
        );
        assert_eq!(render("a {{ .Token", &v), "a {{ .Token");
        assert_eq!(render("{{{ .Token }}}", &v), "{{{ .Token }}}");
        assert_eq!(render("é{{.Token}}ü", &v), "é123456ü");
    }

    #[test]
    fn sms_texts() {
        assert_eq!(
            render_sms(DEFAULT_SMS_TEMPLATE, "123456"),
            "Your code is 123456"
        );
        assert_eq!(render_sms("", "123456"), "Your code is 123456");
        assert_eq!(render_sms("{{.Code}} & {{ .Code }}", "1<2"), "1<2 & 1<2");
        assert_eq!(render_sms("{{ .Token }}", "1"), "{{ .Token }}");
    }

    #[test]
    fn confirmation_urls() {
        assert_eq!(
            confirmation_url("http://127.0.0.1:54321/auth/v1", "pkce_a1", "signup", "https://app.example/cb?a=1&b=2"),
            "http://127.0.0.1:54321/auth/v1/verify?token=pkce_a1&type=signup&redirect_to=https%3A%2F%2Fapp.example%2Fcb%3Fa%3D1%26b%3D2"
        );
        assert_eq!(
            confirmation_url("https://auth.example/", "ab", "magiclink", ""),
            "https://auth.example/verify?token=ab&type=magiclink&redirect_to="
        );
    }
}
