//! The staff accounts triage announces (`staff.changed`), kept per account at the highest revision, and
//! the directory they make together with the configured people.
use contracts::staff::StaffChangedV1;
use sqlx::{PgConnection, Row};

use crate::domain::directory::{Directory, Person, SyncedAccount};

/// Keeps `s` unless a later revision of the account is already here (events may arrive out of order or
/// again).
pub async fn record(conn: &mut PgConnection, s: &StaffChangedV1) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO staff (user_id, name, email, phone, language, roles, department, sites, active, revision)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)
         ON CONFLICT (user_id) DO UPDATE SET name = $2, email = $3, phone = $4, language = $5, roles = $6,
            department = $7, sites = $8, active = $9, revision = $10, updated_at = now()
          WHERE staff.revision < EXCLUDED.revision",
    )
    .bind(&s.user_id)
    .bind(&s.name)
    .bind(&s.email)
    .bind(&s.phone)
    .bind(&s.language)
    .bind(&s.roles)
    .bind(&s.department)
    .bind(&s.sites)
    .bind(s.active)
    .bind(s.revision)
    .execute(conn)
    .await?;
    Ok(())
}

/// Every synced account. Staff are few (hundreds at most), so one read per event is cheap and always
/// current, whichever replica recorded the change.
pub async fn accounts(conn: &mut PgConnection) -> Result<Vec<SyncedAccount>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT user_id, name, email, phone, language, roles, department, sites, active FROM staff ORDER BY user_id",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SyncedAccount {
            user_id: r.get("user_id"),
            person: Person {
                name: r.get("name"),
                email: r.get::<Option<String>, _>("email").filter(|e| !e.trim().is_empty()),
                phone: r.get::<Option<String>, _>("phone").filter(|p| !p.trim().is_empty()),
                language: r.get("language"),
                roles: r.get("roles"),
                department: r.get("department"),
                sites: r.get("sites"),
            },
            active: r.get("active"),
        })
        .collect())
}

/// The configured directory with the synced accounts over it.
pub async fn directory(conn: &mut PgConnection, configured: &Directory) -> Result<Directory, sqlx::Error> {
    Ok(configured.with_synced(accounts(conn).await?))
}
