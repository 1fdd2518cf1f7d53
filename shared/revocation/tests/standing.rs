//! The token tables against a real PostgreSQL: what triage announces decides which tokens stand.
use auth::{AuthKeys, Role};
use chrono::{Duration, Utc};
use contracts::staff::{StaffChangedV1, StaffTokenRevokedV1};
use revocation::{standing, Standing, CHANGED, DEACTIVATED, REVOKED};
use sqlx::PgPool;
use testkit::Infra;

fn account(user: &str, active: bool, revision: i64, valid_after: Option<chrono::DateTime<Utc>>) -> StaffChangedV1 {
    StaffChangedV1 {
        user_id: user.into(),
        name: "N".into(),
        email: None,
        phone: None,
        language: "zh-CN".into(),
        roles: vec!["handler".into()],
        department: Some("quality".into()),
        sites: vec![],
        active,
        revision,
        tokens_valid_after: valid_after,
    }
}

#[tokio::test]
async fn revocations_and_account_changes_refuse_tokens_whatever_the_order_of_events() {
    let infra = Infra::from_env();
    let url = infra.create_database("revocation").await.unwrap();
    let pool = PgPool::connect(&url).await.unwrap();
    revocation::ensure_schema(&pool).await.unwrap();
    revocation::ensure_schema(&pool).await.unwrap(); // idempotent
    let keys = AuthKeys::new("k");
    let issue = |user: &str| {
        keys.issue(user, "N", vec![Role::Handler], None, vec![], Duration::hours(1))
            .unwrap()
    };
    let (a, b, stranger) = (issue("u1"), issue("u1"), issue("u2"));
    let standing_of = |t: &String| {
        let claims = keys.verify(t).unwrap();
        let pool = pool.clone();
        let t = t.clone();
        async move { standing(&pool, &t, &claims).await.unwrap() }
    };
    assert_eq!(standing_of(&a).await, Standing::Accepted);

    let mut conn = pool.acquire().await.unwrap();
    let revoked = StaffTokenRevokedV1 {
        user_id: "u1".into(),
        token_sha256: revocation::token_sha256(&a).to_uppercase(),
        expires_at: Utc::now() + Duration::hours(1),
    };
    revocation::record_revoked(&mut conn, &revoked).await.unwrap();
    revocation::record_revoked(&mut conn, &revoked).await.unwrap(); // redelivered
    assert_eq!(standing_of(&a).await, Standing::Refused(REVOKED));
    assert_eq!(standing_of(&b).await, Standing::Accepted, "only that token");

    // Deactivated at revision 3; revision 2 arriving late changes nothing.
    revocation::record_account(&mut conn, &account("u1", false, 3, None))
        .await
        .unwrap();
    revocation::record_account(&mut conn, &account("u1", true, 2, None))
        .await
        .unwrap();
    assert_eq!(standing_of(&b).await, Standing::Refused(DEACTIVATED));
    assert_eq!(standing_of(&stranger).await, Standing::Accepted);

    // Reactivated with tokens valid only after the change: the old token stays refused.
    let later = Utc::now() + Duration::seconds(5);
    revocation::record_account(&mut conn, &account("u1", true, 4, Some(later)))
        .await
        .unwrap();
    assert_eq!(standing_of(&b).await, Standing::Refused(CHANGED));

    // Revocations of long-expired tokens are forgotten when the next one comes.
    sqlx::query("UPDATE token_revocations SET expires_at = now() - interval '2 hours'")
        .execute(&mut *conn)
        .await
        .unwrap();
    let other = StaffTokenRevokedV1 {
        user_id: "u2".into(),
        token_sha256: revocation::token_sha256(&stranger),
        expires_at: Utc::now() + Duration::hours(1),
    };
    revocation::record_revoked(&mut conn, &other).await.unwrap();
    let kept: Vec<String> = sqlx::query_scalar("SELECT user_id FROM token_revocations")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    assert_eq!(kept, ["u2"]);
    assert_eq!(standing_of(&stranger).await, Standing::Refused(REVOKED));
    drop(conn);
    pool.close().await;
    infra.drop_database(&url).await;
}
