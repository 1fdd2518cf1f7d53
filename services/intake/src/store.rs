//! Registering feedback: the register row, its `feedback.received` event and the idempotency
//! record commit in one transaction, before the customer gets an answer.
use chrono::{DateTime, Utc};
use contracts::{
    feedback::{AttachmentV1, FeedbackReceivedV1},
    Envelope,
};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::{feedback::NewFeedback, reference::ReferenceAllocator};

/// What `POST /api/v1/feedback` answers with `201`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Registered {
    pub id: Uuid,
    pub reference: String,
    pub status: String,
    pub received_at: DateTime<Utc>,
    /// Secret that lets the customer follow the status; shown once.
    pub status_token: String,
    pub status_url: String,
}

pub enum Outcome {
    Created(Registered),
    /// Same Idempotency-Key and body as before: the earlier answer.
    Replayed(Registered),
    /// Same Idempotency-Key, different body.
    KeyReused,
}

pub struct Idempotency<'a> {
    pub key: &'a str,
    pub request_hash: String,
}

pub fn hash_request(body: &[u8]) -> String {
    hex(&Sha256::digest(body))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What some channels register beside the feedback itself.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// The customer's own choice of type (web form), kept in `details.feedback_type` as a hint.
    pub feedback_type: Option<String>,
    /// Files already in the attachment store; their rows commit with the feedback row.
    pub attachments: Vec<StoredAttachment>,
}

/// An attachment whose bytes are stored under `storage_key`.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAttachment {
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
    pub file_name: String,
    pub storage_key: String,
}

pub async fn register(
    pool: &PgPool,
    references: &ReferenceAllocator,
    public_url: &str,
    feedback: NewFeedback,
    registered_by: Option<&str>,
    idempotency: Option<Idempotency<'_>>,
) -> Result<Outcome, sqlx::Error> {
    register_with(
        pool,
        references,
        public_url,
        feedback,
        registered_by,
        idempotency,
        Extras::default(),
    )
    .await
}

/// `register`, plus a type hint and attachments written in the same transaction.
pub async fn register_with(
    pool: &PgPool,
    references: &ReferenceAllocator,
    public_url: &str,
    feedback: NewFeedback,
    registered_by: Option<&str>,
    idempotency: Option<Idempotency<'_>>,
    extras: Extras,
) -> Result<Outcome, sqlx::Error> {
    if let Some(idem) = &idempotency {
        if let Some(previous) = earlier_answer(pool, idem).await? {
            return Ok(previous);
        }
    }
    // The reference first: reserving a block takes a connection of its own, never while holding one.
    let reference = references.next(pool, &feedback.site, feedback.received_at).await?;
    let mut tx = pool.begin().await?;
    let registered = write_feedback(&mut tx, reference, public_url, feedback, registered_by, &extras).await?;
    if let Some(idem) = &idempotency {
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (key, request_hash, status, response) VALUES ($1, $2, 201, $3)
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(idem.key)
        .bind(&idem.request_hash)
        .bind(serde_json::to_value(&registered).expect("serialisable"))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            // A concurrent request with the same key won: drop ours and answer as it did.
            tx.rollback().await?;
            return Ok(earlier_answer(pool, idem).await?.unwrap_or(Outcome::KeyReused));
        }
    }
    tx.commit().await?;
    Ok(Outcome::Created(registered))
}

/// Writes the register row, its attachment rows and its `feedback.received` event inside `tx` (the
/// caller commits). `reference` comes from [`ReferenceAllocator::next`], called before the transaction
/// began (it may need a connection of its own); a rollback leaves a gap in the numbering, never a duplicate.
pub async fn write_feedback(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    reference: String,
    public_url: &str,
    feedback: NewFeedback,
    registered_by: Option<&str>,
    extras: &Extras,
) -> Result<Registered, sqlx::Error> {
    let id = Uuid::now_v7();
    let mut token = [0u8; 24];
    rand::rng().fill_bytes(&mut token);
    let token = hex(&token);
    let status_url = format!(
        "{}/api/v1/feedback/{}/status?token={}",
        public_url.trim_end_matches('/'),
        reference,
        token
    );
    let registered = Registered {
        id,
        reference: reference.clone(),
        status: "registered".into(),
        received_at: feedback.received_at,
        status_token: token.clone(),
        status_url: status_url.clone(),
    };
    let mut details = serde_json::json!({
        "product": feedback.product, "order": feedback.order,
        "claim": feedback.claim, "adverse_reaction": feedback.adverse_reaction,
    });
    if let Some(t) = &extras.feedback_type {
        details["feedback_type"] = serde_json::Value::String(t.clone());
    }

    sqlx::query(
        "INSERT INTO feedback (id, reference, site, channel, received_at, registered_by, customer_name,
            customer_phone, customer_email, contact_key, anonymous, language, subject, content, details,
            status_token_sha256)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)",
    )
    .bind(id)
    .bind(&reference)
    .bind(&feedback.site)
    .bind(feedback.channel.as_str())
    .bind(feedback.received_at)
    .bind(registered_by)
    .bind(&feedback.customer.name)
    .bind(&feedback.customer.phone)
    .bind(&feedback.customer.email)
    .bind(&feedback.customer.contact_key)
    .bind(feedback.customer.anonymous)
    .bind(&feedback.customer.language)
    .bind(&feedback.subject)
    .bind(&feedback.content)
    .bind(details)
    .bind(hex(&Sha256::digest(token.as_bytes())))
    .execute(&mut **tx)
    .await?;

    for a in &extras.attachments {
        sqlx::query(
            "INSERT INTO attachments (id, feedback_id, sha256, size, content_type, file_name, storage_key)
             VALUES ($1,$2,$3,$4,$5,$6,$7)",
        )
        .bind(Uuid::now_v7())
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
        feedback.site.clone(),
        id,
        FeedbackReceivedV1 {
            feedback_id: id,
            reference,
            channel: feedback.channel,
            received_at: feedback.received_at,
            customer: feedback.customer,
            subject: feedback.subject,
            content: feedback.content,
            product: feedback.product,
            order: feedback.order,
            claim: feedback.claim,
            adverse_reaction: feedback.adverse_reaction,
            status_url: Some(status_url),
            attachments: extras
                .attachments
                .iter()
                .map(|a| AttachmentV1 {
                    sha256: a.sha256.clone(),
                    size: a.size,
                    content_type: a.content_type.clone(),
                    file_name: a.file_name.clone(),
                })
                .collect(),
        },
    );
    messaging::enqueue(tx, &event).await?;
    Ok(registered)
}

async fn earlier_answer(pool: &PgPool, idem: &Idempotency<'_>) -> Result<Option<Outcome>, sqlx::Error> {
    let row: Option<(String, serde_json::Value)> =
        sqlx::query_as("SELECT request_hash, response FROM idempotency_keys WHERE key = $1")
            .bind(idem.key)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(hash, response)| {
        if hash == idem.request_hash {
            serde_json::from_value(response)
                .map(Outcome::Replayed)
                .unwrap_or(Outcome::KeyReused)
        } else {
            Outcome::KeyReused
        }
    }))
}

/// What a customer may see about their own feedback.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicStatus {
    pub reference: String,
    pub status: String,
    pub received_at: DateTime<Utc>,
    pub channel: String,
}

/// A registered feedback's register entry as staff see it without its content: that it exists, when and how it
/// came in, where it stands.
pub async fn registered(pool: &PgPool, reference: &str) -> Result<Option<PublicStatus>, sqlx::Error> {
    let row: Option<(String, String, DateTime<Utc>, String)> =
        sqlx::query_as("SELECT reference, status, received_at, channel FROM feedback WHERE reference = $1")
            .bind(reference)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(reference, status, received_at, channel)| PublicStatus {
        reference,
        status,
        received_at,
        channel,
    }))
}

pub async fn status(pool: &PgPool, reference: &str, token: &str) -> Result<Option<PublicStatus>, sqlx::Error> {
    let row: Option<(String, String, DateTime<Utc>, String)> = sqlx::query_as(
        "SELECT reference, status, received_at, channel FROM feedback
          WHERE reference = $1 AND status_token_sha256 = $2",
    )
    .bind(reference)
    .bind(hex(&Sha256::digest(token.as_bytes())))
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(reference, status, received_at, channel)| PublicStatus {
        reference,
        status,
        received_at,
        channel,
    }))
}
