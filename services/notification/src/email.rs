//! Email over SMTP (lettre): multipart/alternative with the plain text and its HTML rendering from the
//! same template data, threaded (Message-ID, In-Reply-To, References) and marked `Auto-Submitted`.
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use lettre::{
    message::{
        header::{HeaderName, HeaderValue},
        MultiPart, SinglePart,
    },
    transport::smtp::authentication::Credentials,
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};

use crate::{
    domain::templates::text_to_html,
    sender::{Channel, Claimed, Failure, Outcome},
    settings::{SmtpSecurity, SmtpSettings},
};

/// `Auto-Submitted: auto-generated`, so auto-responders never answer us and no mail loop starts.
#[derive(Clone)]
struct AutoSubmitted;

impl lettre::message::header::Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".into())
    }
}

pub fn transport(smtp: &SmtpSettings) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let builder = match smtp.security {
        SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)?,
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)?,
    };
    let mut builder = builder
        .port(smtp.port)
        .timeout(Some(Duration::from_millis(smtp.timeout_ms)));
    if !smtp.username.is_empty() {
        builder = builder.credentials(Credentials::new(smtp.username.clone(), smtp.password.clone()));
    }
    Ok(builder.build())
}

pub struct Email {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    smtp: SmtpSettings,
}

impl Email {
    pub fn new(smtp: SmtpSettings) -> anyhow::Result<Self> {
        Ok(Self {
            transport: transport(&smtp)?,
            smtp,
        })
    }

    pub fn message(&self, d: &Claimed) -> anyhow::Result<Message> {
        let mut builder = Message::builder();
        if let Some(parent) = &d.in_reply_to {
            // Threading: the customer's mail client shows the conversation, and their reply carries
            // our Message-IDs back to intake.
            builder = builder.in_reply_to(parent.clone()).references(parent.clone());
        }
        // Rows queued before HTML existed get it converted from their text.
        let html = d.body_html.clone().unwrap_or_else(|| text_to_html(&d.body_text));
        builder
            .from(self.smtp.from.parse().context("smtp.from")?)
            .to(d.recipient.parse().context("recipient address")?)
            .subject(&d.subject)
            .message_id(Some(d.message_id.clone()))
            .header(AutoSubmitted)
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::plain(d.body_text.clone()))
                    .singlepart(SinglePart::html(html)),
            )
            .context("building the message")
    }
}

#[async_trait]
impl Channel for Email {
    fn name(&self) -> &'static str {
        "email"
    }

    async fn deliver(&self, d: &Claimed) -> Outcome {
        let message = match self.message(d) {
            Ok(m) => m,
            // An address that does not parse will never work.
            Err(e) => return Outcome::Failed(Failure::Permanent(format!("{e:#}"))),
        };
        match self.transport.send(message).await {
            Ok(response) => Outcome::Sent(response.message().collect::<Vec<_>>().join(" ")),
            Err(e) if e.is_permanent() => Outcome::Failed(Failure::Permanent(e.to_string())),
            Err(e) => Outcome::Failed(Failure::Transient {
                error: e.to_string(),
                retry_after: None,
            }),
        }
    }
}
