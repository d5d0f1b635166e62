//! Email over SMTP: alert emails from the delivery queue, and password-reset links.
//!
//! `TOLLGATE_SMTP_URL` names the server the way lettre reads it: `smtp://host:port` (plain,
//! for a relay on the same machine), `smtp://host:587?tls=required` (STARTTLS),
//! `smtps://user:password@host:465` (TLS from the first byte). Without it, email is off.

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};
use std::fmt;
use std::time::Duration;

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

/// The configured mail server and sender.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// Where the server is, without its password: for logs and the settings page.
    server: String,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer").field("server", &self.server).field("from", &self.from.to_string()).finish()
    }
}

/// An email ready to send: plain text, and the same as simple HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Why a send failed, and whether trying again can help.
#[derive(Debug)]
pub struct MailFailure {
    /// The server's reply code, when it answered.
    pub code: Option<u16>,
    /// A 5xx answer (or an address lettre cannot parse): retrying cannot help.
    pub permanent: bool,
    pub message: String,
}

impl Mailer {
    /// A mailer for `url` sending as `from` (`Tollgate <alerts@example.com>` or a bare
    /// address). Refuses a URL or sender lettre cannot use, saying which.
    pub fn new(url: &str, from: &str) -> Result<Self, String> {
        let from: Mailbox = from.parse().map_err(|e| format!("TOLLGATE_SMTP_FROM `{from}` is not an email address: {e}"))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("TOLLGATE_SMTP_URL is not an SMTP URL lettre can use ({e}); for example smtp://127.0.0.1:2525, smtp://host:587?tls=required or smtps://user:password@host:465"))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Self { transport, from, server: redact(url) })
    }

    /// The server, with any password hidden.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Sends one email; the reply code on success.
    pub async fn send(&self, email: &Email) -> Result<u16, MailFailure> {
        let to: Mailbox = email.to.parse().map_err(|e| MailFailure { code: None, permanent: true, message: format!("`{}` is not an email address: {e}", email.to) })?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&email.subject)
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(email.text.clone()))
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(email.html.clone())),
            )
            .map_err(|e| MailFailure { code: None, permanent: true, message: format!("cannot build the message: {e}") })?;
        match self.transport.send(message).await {
            Ok(reply) => Ok(u16::from(reply.code())),
            Err(err) => Err(MailFailure {
                code: err.status().map(u16::from),
                permanent: err.is_permanent(),
                message: err.to_string(),
            }),
        }
    }
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://…{}", &url[..scheme], &url[at..]),
        _ => url.to_owned(),
    }
}

/// Text safe inside HTML.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An email of a few paragraphs and one link, as text and as simple HTML.
pub(crate) fn compose(to: &str, subject: &str, paragraphs: &[&str], link_text: &str, link: &str) -> Email {
    let mut text = String::new();
    let mut html = String::from("<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5;color:#111\">");
    for p in paragraphs {
        text.push_str(p);
        text.push_str("\n\n");
        html.push_str(&format!("<p>{}</p>", escape_html(p)));
    }
    text.push_str(&format!("{link_text}: {link}\n"));
    html.push_str(&format!("<p><a href=\"{}\">{}</a></p></body></html>", escape_html(link), escape_html(link_text)));
    Email { to: to.to_owned(), subject: subject.to_owned(), text, html }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_never_reaches_the_logged_server() {
        let mailer = Mailer::new("smtps://alerts:hunter2@mail.example.com:465", "Tollgate <alerts@example.com>").expect("valid");
        assert_eq!(mailer.server(), "smtps://…@mail.example.com:465");
        assert!(!format!("{mailer:?}").contains("hunter2"));
    }

    #[test]
    fn bad_settings_say_what_is_wrong() {
        let err = Mailer::new("smtp://127.0.0.1:2525", "not an address").expect_err("bad sender");
        assert!(err.contains("TOLLGATE_SMTP_FROM"), "{err}");
        let err = Mailer::new("http://mail.example.com", "a@example.com").expect_err("bad scheme");
        assert!(err.contains("TOLLGATE_SMTP_URL"), "{err}");
    }

    #[test]
    fn hostile_text_is_escaped_in_the_html_part() {
        let email = compose("a@example.com", "Hi", &["<script>alert(1)</script> & more"], "Open", "https://x.example/?a=1&b=\"2\"");
        assert!(email.html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"), "{}", email.html);
        assert!(email.html.contains("href=\"https://x.example/?a=1&amp;b=&quot;2&quot;\""), "{}", email.html);
        assert!(email.text.contains("<script>"), "the text part is text");
    }
}
