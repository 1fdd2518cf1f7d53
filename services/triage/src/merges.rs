//! Merging a duplicate case into the case it duplicates takes its reports along (the target counts them), and
//! reopening the merged case (un-merging it) takes them back; both cases' histories say so (003 篇6 §1.12).
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{domain::workflow::Actor, store};

/// Moves `source`'s reports to `target` (which records `duplicate_merged`); `source` was just closed as merged.
pub async fn merge(
    conn: &mut PgConnection,
    actor: &Actor,
    source: &store::LockedCase,
    target: &store::LockedCase,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let moved = sqlx::query("UPDATE case_reports SET case_id = $2, merged_path = merged_path || $1 WHERE case_id = $1")
        .bind(source.id)
        .bind(target.id)
        .execute(&mut *conn)
        .await?
        .rows_affected() as i32;
    move_count(conn, source.id, -moved).await?;
    let (before, after) = move_count(conn, target.id, moved).await?;
    store::record_unchanged_at(
        conn,
        target,
        "duplicate_merged",
        &actor.id,
        at,
        json!({ "case_id": source.id, "reference": source.reference, "reports": moved, "reason": reason }),
        json!({ "report_count": [before, after] }),
    )
    .await
}

/// Takes back the reports that merging `source` moved, wherever later merges carried them (`source` was just
/// reopened); each case that gives reports back records `duplicate_unmerged`.
pub async fn unmerge(
    conn: &mut PgConnection,
    actor: &Actor,
    source: &store::LockedCase,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let holders: Vec<Uuid> = sqlx::query_scalar(
        "SELECT DISTINCT case_id FROM case_reports WHERE merged_path @> ARRAY[$1::uuid] ORDER BY case_id",
    )
    .bind(source.id)
    .fetch_all(&mut *conn)
    .await?;
    for holder in holders {
        let Some(holder) = store::lock(conn, &holder.to_string()).await? else {
            continue;
        };
        // The path up to (not including) `source`: where the report was before it came into `source`.
        let moved = sqlx::query(
            "UPDATE case_reports SET case_id = $1,
                    merged_path = merged_path[1:array_position(merged_path, $1) - 1]
              WHERE case_id = $2 AND merged_path @> ARRAY[$1::uuid]",
        )
        .bind(source.id)
        .bind(holder.id)
        .execute(&mut *conn)
        .await?
        .rows_affected() as i32;
        move_count(conn, source.id, moved).await?;
        let (before, after) = move_count(conn, holder.id, -moved).await?;
        store::record_unchanged_at(
            conn,
            &holder,
            "duplicate_unmerged",
            &actor.id,
            at,
            json!({ "case_id": source.id, "reference": source.reference, "reports": moved }),
            json!({ "report_count": [before, after] }),
        )
        .await?;
    }
    Ok(())
}

/// Adds `by` to the case's report count; (before, after).
async fn move_count(conn: &mut PgConnection, case: Uuid, by: i32) -> Result<(i32, i32), sqlx::Error> {
    sqlx::query_as(
        "UPDATE cases SET report_count = report_count + $2, updated_at = now() WHERE id = $1
         RETURNING report_count - $2, report_count",
    )
    .bind(case)
    .bind(by)
    .fetch_one(conn)
    .await
}
