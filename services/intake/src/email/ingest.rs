//! One email through the pipeline: parse → classify → in ONE transaction the `email_messages` row
//! (keyed by mailbox and Message-ID, or the raw message's hash), the register row or follow-up, and
//! its event → commit. The caller marks the message on the server only after this returns, so a
//! crash in between finds the row next time and registers nothing twice.
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use contracts::{
    feedback::{AttachmentV1, Channel, CustomerV1},
    followup::FeedbackFollowupV1,
    Envelope,
};
use messaging::OutboxSignal;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::{
    classify::{classify, OwnMail, Verdict},
    parse::{guess_language, parse, ParsedEmail},
};
use crate::{
    attachments::{clean_file_name, sha256_hex, sniff, AttachmentStore},
    domain::{contact, feedback::NewFeedback, reference::ReferenceAllocator},
    settings::Settings,
    store::{self, Extras, StoredAttachment},
};

/// Where a message came from.
#[derive(Debug, Clone)]
pub struct Source<'a> {
    /// The mailbox's configured name (dedup is per mailbox).
    pub mailbox: &'a str,
    pub site: &'a str,
    /// IMAP `(UIDVALIDITY, UID)`, kept for tracing a row back to the server.
    pub uid: Option<(u32, u32)>,
    /// When the server received it (IMAP INTERNALDATE); `None` = now.
    pub received_at: Option<DateTime<Utc>>,
}

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingested {
    Registered {
        reference: String,
    },
    Followup {
        reference: String,
    },
    /// Automatic mail (auto-reply, bounce, our own): recorded, never a case.
    Ignored(&'static str),
    /// Unusable (unparseable, too large, no sender): recorded.
    Rejected(&'static str),
    /// Seen before (same mailbox and Message-ID): nothing done again.
    AlreadyProcessed,
}

impl Ingested {
    /// Committed work whose event should leave now.
    pub fn is_new_work(&self) -> bool {
        matches!(self, Ingested::Registered { .. } | Ingested::Followup { .. })
    }

    pub fn outcome(&self) -> &'static str {
        match self {
            Ingested::Registered { .. } => "registered",
            Ingested::Followup { .. } => "followup",
            Ingested::Ignored(_) => "ignored",
            Ingested::Rejected(_) => "rejected",
            Ingested::AlreadyProcessed => "already_processed",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("attachment store: {0}")]
    Store(#[from] std::io::Error),
}

/// Everything the pipeline needs; shared by the IMAP pollers and the webhook.
#[derive(Clone)]
pub struct Ingest {
    pub pool: PgPool,
    pub references: Arc<ReferenceAllocator>,
    pub store: Arc<dyn AttachmentStore>,
    pub outbox: OutboxSignal,
    pub settings: Arc<Settings>,
}

/// The dedup key: the Message-ID, or the raw message's hash when it has none.
pub fn message_key(message_id: Option<&str>, raw: &[u8]) -> String {
    match message_id {
        Some(id) => id.to_owned(),
        None => format!("sha256:{}", sha256_hex(raw)),
    }
}

struct Row<'a> {
    key: &'a str,
    outcome: &'static str,
    reason: Option<&'static str>,
    size: usize,
}

impl Ingest {
    fn own(&self) -> OwnMail {
        OwnMail {
            message_id_domain: self.settings.email.our_message_id_domain.clone(),
            addresses: self.settings.email.our_addresses.clone(),
        }
    }

    /// Whether this mailbox already recorded the message (then it is only marked again).
    pub async fn seen(&self, mailbox: &str, key: &str) -> Result<bool, sqlx::Error> {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM email_messages WHERE mailbox = $1 AND message_key = $2)")
            .bind(mailbox)
            .bind(key)
            .fetch_one(&self.pool)
            .await
    }

    /// Records a message we will not read (too large): by the key the caller could get.
    pub async fn reject(
        &self,
        source: &Source<'_>,
        key: &str,
        reason: &'static str,
        size: usize,
    ) -> Result<Ingested, IngestError> {
        let mut tx = self.pool.begin().await?;
        let fresh = self
            .claim(
                &mut tx,
                source,
                &Row {
                    key,
                    outcome: "rejected",
                    reason: Some(reason),
                    size,
                },
            )
            .await?;
        tx.commit().await?;
        tracing::warn!(mailbox = source.mailbox, reason, size, "email rejected");
        Ok(if fresh {
            Ingested::Rejected(reason)
        } else {
            Ingested::AlreadyProcessed
        })
    }

    pub async fn ingest(&self, source: &Source<'_>, raw: &[u8]) -> Result<Ingested, IngestError> {
        let size = raw.len();
        if size > self.settings.email.max_message_bytes {
            return self.reject(source, &message_key(None, raw), "too_large", size).await;
        }
        let email = match parse(raw) {
            Ok(e) => e,
            Err(_) => return self.reject(source, &message_key(None, raw), "unparseable", size).await,
        };
        let key = message_key(email.message_id.as_deref(), raw);
        if self.seen(source.mailbox, &key).await? {
            return Ok(Ingested::AlreadyProcessed);
        }
        let row = |outcome, reason| Row {
            key: &key,
            outcome,
            reason,
            size,
        };
        let known = match classify(&email, &self.own()) {
            Verdict::Ignore(reason) => return self.record_only(source, &row("ignored", Some(reason))).await,
            Verdict::MaybeReply(refs) => self.known_feedback(&refs).await?,
            Verdict::New => None,
        };
        let Some(sender) = email.from.clone().filter(|f| contact::valid_email(f)) else {
            return self.record_only(source, &row("rejected", Some("no_sender"))).await;
        };
        let received_at = source
            .received_at
            .filter(|t| *t <= Utc::now())
            .unwrap_or_else(Utc::now)
            .trunc_subsecs(6);
        let attachments = self.store_attachments(&email).await?;

        // A new feedback's reference first: reserving a block takes a connection of its own.
        let target = match known {
            Some(original) => Target::Followup(original),
            None => Target::New(self.references.next(&self.pool, source.site, received_at).await?),
        };
        let mut tx = self.pool.begin().await?;
        let outcome = match target {
            Target::Followup(_) => "followup",
            Target::New(_) => "registered",
        };
        if !self.claim(&mut tx, source, &row(outcome, None)).await? {
            tx.rollback().await?;
            return Ok(Ingested::AlreadyProcessed);
        }
        let result = match target {
            Target::Followup(original) => {
                let followup_id = self
                    .write_followup(&mut tx, &original, &email, &sender, received_at, &attachments)
                    .await?;
                sqlx::query(
                    "UPDATE email_messages SET feedback_id = $3, followup_id = $4, reference = $5
                      WHERE mailbox = $1 AND message_key = $2",
                )
                .bind(source.mailbox)
                .bind(&key)
                .bind(original.id)
                .bind(followup_id)
                .bind(&original.reference)
                .execute(&mut *tx)
                .await?;
                Ingested::Followup {
                    reference: original.reference,
                }
            }
            Target::New(reference) => {
                let feedback = self.new_feedback(source.site, &email, sender, received_at);
                let public_url = self.settings.http.public_url.as_deref().unwrap_or("");
                let extras = Extras {
                    feedback_type: None,
                    attachments,
                };
                let registered = store::write_feedback(&mut tx, reference, public_url, feedback, None, &extras).await?;
                sqlx::query(
                    "UPDATE email_messages SET feedback_id = $3, reference = $4 WHERE mailbox = $1 AND message_key = $2",
                )
                .bind(source.mailbox)
                .bind(&key)
                .bind(registered.id)
                .bind(&registered.reference)
                .execute(&mut *tx)
                .await?;
                Ingested::Registered {
                    reference: registered.reference,
                }
            }
        };
        tx.commit().await?;
        self.outbox.notify();
        let reference = match &result {
            Ingested::Registered { reference } | Ingested::Followup { reference } => reference.as_str(),
            _ => "",
        };
        metrics::counter!("email_ingested_total", "outcome" => result.outcome()).increment(1);
        tracing::info!(
            mailbox = source.mailbox,
            outcome = result.outcome(),
            reference,
            "email ingested"
        );
        Ok(result)
    }

    /// Inserts the `email_messages` row; `false` when another pass (or replica) recorded it first.
    async fn claim(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        source: &Source<'_>,
        row: &Row<'_>,
    ) -> Result<bool, sqlx::Error> {
        let inserted = sqlx::query(
            "INSERT INTO email_messages (mailbox, message_key, outcome, reason, uid_validity, uid, size)
             VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (mailbox, message_key) DO NOTHING",
        )
        .bind(source.mailbox)
        .bind(row.key)
        .bind(row.outcome)
        .bind(row.reason)
        .bind(source.uid.map(|(v, _)| i64::from(v)))
        .bind(source.uid.map(|(_, u)| i64::from(u)))
        .bind(i64::try_from(row.size).unwrap_or(i64::MAX))
        .execute(&mut **tx)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    async fn record_only(&self, source: &Source<'_>, row: &Row<'_>) -> Result<Ingested, IngestError> {
        let mut tx = self.pool.begin().await?;
        let fresh = self.claim(&mut tx, source, row).await?;
        tx.commit().await?;
        if !fresh {
            return Ok(Ingested::AlreadyProcessed);
        }
        let reason = row.reason.unwrap_or("unknown");
        metrics::counter!("email_ingested_total", "outcome" => row.outcome).increment(1);
        tracing::info!(
            mailbox = source.mailbox,
            outcome = row.outcome,
            reason,
            "email not registered"
        );
        Ok(if row.outcome == "ignored" {
            Ingested::Ignored(reason)
        } else {
            Ingested::Rejected(reason)
        })
    }

    /// The first of `refs` (in order) that is in our register.
    async fn known_feedback(&self, refs: &[String]) -> Result<Option<Original>, sqlx::Error> {
        let rows: Vec<(Uuid, String, String)> =
            sqlx::query_as("SELECT id, reference, site FROM feedback WHERE reference = ANY($1)")
                .bind(refs)
                .fetch_all(&self.pool)
                .await?;
        Ok(refs.iter().find_map(|r| {
            rows.iter()
                .find(|(_, reference, _)| reference == r)
                .map(|(id, reference, site)| Original {
                    id: *id,
                    reference: reference.clone(),
                    site: site.clone(),
                })
        }))
    }

    fn new_feedback(&self, site: &str, email: &ParsedEmail, sender: String, received_at: DateTime<Utc>) -> NewFeedback {
        let limits = &self.settings.intake;
        let subject = email.subject.as_deref().map(|s| clip(s, limits.max_subject_chars));
        let content = content_of(email, limits.max_content_chars);
        let language = match self.settings.email.language.trim() {
            "" => guess_language(&format!("{} {}", subject.as_deref().unwrap_or(""), content)).to_owned(),
            configured => configured.to_owned(),
        };
        NewFeedback {
            channel: Channel::Email,
            site: site.to_owned(),
            received_at,
            customer: CustomerV1 {
                name: email.from_name.as_deref().map(|n| clip(n, limits.max_name_chars)),
                phone: None,
                contact_key: contact::contact_key(None, Some(&sender)),
                email: Some(sender),
                anonymous: false,
                language,
            },
            subject,
            content,
            product: None,
            order: None,
            claim: None,
            adverse_reaction: None,
        }
    }

    /// Keeps the attachments the web form would accept (type judged from the bytes, size, count);
    /// the rest are left out of the register (the message itself stays on the server).
    async fn store_attachments(&self, email: &ParsedEmail) -> Result<Vec<StoredAttachment>, std::io::Error> {
        let web = &self.settings.web;
        let mut stored = Vec::new();
        for a in &email.attachments {
            if stored.len() >= web.max_attachments || a.bytes.len() > web.max_attachment_bytes {
                continue;
            }
            let Some(content_type) = sniff(&a.bytes).filter(|t| web.allowed_attachment_types.iter().any(|a| a == t))
            else {
                continue;
            };
            let key = self.store.put(&a.bytes).await?;
            stored.push(StoredAttachment {
                sha256: sha256_hex(&a.bytes),
                size: a.bytes.len() as u64,
                content_type: content_type.to_owned(),
                file_name: clean_file_name(a.file_name.as_deref()),
                storage_key: key,
            });
        }
        let skipped = email.attachments.len() - stored.len();
        if skipped > 0 {
            tracing::info!(skipped, "email attachments left out (type, size or count)");
        }
        Ok(stored)
    }

    async fn write_followup(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        original: &Original,
        email: &ParsedEmail,
        sender: &str,
        received_at: DateTime<Utc>,
        attachments: &[StoredAttachment],
    ) -> Result<Uuid, sqlx::Error> {
        let limits = &self.settings.intake;
        let id = Uuid::now_v7();
        let subject = email.subject.as_deref().map(|s| clip(s, limits.max_subject_chars));
        let text = content_of(email, limits.max_content_chars);
        sqlx::query(
            "INSERT INTO followups (id, feedback_id, reference, channel, sender, subject, content, message_id, received_at)
             VALUES ($1,$2,$3,'email',$4,$5,$6,$7,$8)",
        )
        .bind(id)
        .bind(original.id)
        .bind(&original.reference)
        .bind(sender)
        .bind(&subject)
        .bind(&text)
        .bind(&email.message_id)
        .bind(received_at)
        .execute(&mut **tx)
        .await?;
        for a in attachments {
            sqlx::query(
                "INSERT INTO attachments (id, feedback_id, followup_id, sha256, size, content_type, file_name, storage_key)
                 VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
            )
            .bind(Uuid::now_v7())
            .bind(original.id)
            .bind(id)
            .bind(&a.sha256)
            .bind(i64::try_from(a.size).unwrap_or(i64::MAX))
            .bind(&a.content_type)
            .bind(&a.file_name)
            .bind(&a.storage_key)
            .execute(&mut **tx)
            .await?;
        }
        let event = Envelope::new(
            original.site.clone(),
            original.id,
            FeedbackFollowupV1 {
                followup_id: id,
                reference: original.reference.clone(),
                feedback_id: original.id,
                channel: Channel::Email,
                from: Some(sender.to_owned()),
                subject,
                text,
                attachments: attachments
                    .iter()
                    .map(|a| AttachmentV1 {
                        sha256: a.sha256.clone(),
                        size: a.size,
                        content_type: a.content_type.clone(),
                        file_name: a.file_name.clone(),
                    })
                    .collect(),
                received_at,
                message_id: email.message_id.clone(),
            },
        );
        messaging::enqueue(tx, &event).await?;
        Ok(id)
    }
}

/// What a message that is neither automatic nor unusable becomes.
enum Target {
    Followup(Original),
    /// New feedback, with its reference already reserved.
    New(String),
}

/// A registered feedback a message follows up.
struct Original {
    id: Uuid,
    reference: String,
    site: String,
}

/// At most `max` characters, control characters (but line breaks and tabs) removed.
fn clip(s: &str, max: usize) -> String {
    s.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .take(max)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The text, else the subject, else a placeholder: the register needs content.
fn content_of(email: &ParsedEmail, max: usize) -> String {
    let text = clip(&email.text, max);
    if !text.is_empty() {
        return text;
    }
    match email.subject.as_deref().map(|s| clip(s, max)) {
        Some(s) if !s.is_empty() => s,
        _ => "(no text)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedup_key_is_the_message_id_or_a_hash() {
        assert_eq!(message_key(Some("a@b"), b"x"), "a@b");
        let k = message_key(None, b"raw");
        assert!(k.starts_with("sha256:") && k.len() == 7 + 64);
        assert_eq!(k, message_key(None, b"raw"));
    }

    #[test]
    fn content_falls_back_to_subject() {
        let mut e = ParsedEmail {
            subject: Some("Broken".into()),
            ..Default::default()
        };
        assert_eq!(content_of(&e, 100), "Broken");
        e.text = "a\u{0007}b\nc".into();
        assert_eq!(content_of(&e, 100), "ab\nc");
        e.text = "x".repeat(50);
        assert_eq!(content_of(&e, 10).len(), 10);
        assert_eq!(content_of(&ParsedEmail::default(), 10), "(no text)");
    }
}
