//! Test databases are stamped when created, and left-overs older than half a day are dropped by the next
//! `create_database`.
use sqlx::{Connection, PgConnection};
use testkit::Infra;

async fn exists(admin: &mut PgConnection, url: &str) -> bool {
    let name = url.rsplit('/').next().unwrap().split('?').next().unwrap();
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(admin)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_left_over_database_older_than_half_a_day_goes_when_the_next_is_created() {
    let infra = Infra::from_env();
    let mut admin = PgConnection::connect(&infra.admin_database_url).await.unwrap();
    let old = infra.create_database("leftover").await.unwrap();
    let recent = infra.create_database("leftover").await.unwrap();
    let old_name = old.rsplit('/').next().unwrap().to_owned();
    let stamp = epoch_secs() - testkit::STALE_AFTER_SECS - 60;
    sqlx::query(&format!(
        "COMMENT ON DATABASE \"{old_name}\" IS 'testkit created {stamp}'"
    ))
    .execute(&mut admin)
    .await
    .unwrap();
    let next = infra.create_database("leftover").await.unwrap();
    assert!(!exists(&mut admin, &old).await, "the stale one is dropped");
    assert!(exists(&mut admin, &recent).await, "a recent one stays");
    for url in [recent, next] {
        infra.drop_database(&url).await;
    }
}

fn epoch_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
