//! The case list's text search (`?text=`) finds exactly what a plain ILIKE finds, whether or not it uses the
//! bigram index (migration 9): over Chinese, English, mixed, Japanese and Korean texts, with every 1-, 2- and
//! 3-character piece of them and more as the query, on a real PostgreSQL.
use std::collections::BTreeSet;

use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use triage::routes::cases::{needs_bigrams, push_text_search};
use uuid::Uuid;

/// (reference, subject, content)
const CASES: &[(&str, Option<&str>, &str)] = &[
    (
        "SH01-20261101-0001",
        Some("包装破损"),
        "收到的产品包装破损，有质量缺陷。",
    ),
    ("SH01-20261101-0002", Some("发霉"), "批次 B1000 发霉变质，需要退货"),
    ("SH01-20261101-0003", None, "产品发霉了"),
    (
        "SH01-20261101-0004",
        Some("Broken box"),
        "The box arrived BROKEN and wet; quality is poor.",
    ),
    (
        "SH01-20261101-0005",
        Some("混合 Mixed"),
        "Batch B2026-11 的包装 damaged，物流太慢",
    ),
    ("BJ01-20261101-0006", None, "第1批产品到货时包装破损"),
    (
        "BJ01-20261101-0007",
        Some("漏液"),
        "瓶子漏液，标签 100% 错误_请处理 \\ 谢谢",
    ),
    (
        "BJ01-20261101-0008",
        Some("日本語"),
        "パッケージが壊れていました。品質に問題があります",
    ),
    ("BJ01-20261101-0009", Some("한국어"), "포장이 파손되었습니다 품질 문제"),
    (
        "BJ01-20261101-0010",
        Some("ＡＢＣ全角"),
        "Ａ批次发货，ß 与 SS，İstanbul 客户",
    ),
    ("BJ01-20261101-0011", None, "发"),
    ("BJ01-20261101-0012", Some("霉"), "x"),
];

async fn pool() -> PgPool {
    let infra = testkit::Infra::from_env();
    let url = infra.create_database("triage_search").await.unwrap();
    let pool = PgPool::connect(&url).await.unwrap();
    sqlx::migrate!("./migrations").run(&pool).await.unwrap();
    for (i, (reference, subject, content)) in CASES.iter().enumerate() {
        sqlx::query(
            "INSERT INTO cases (id, reference, feedback_id, site, channel, status, class, category, severity,
                department, decided_by, customer, subject, content, received_at)
             VALUES ($1, $2, $3, 'sh01', 'web', 'new', 'complaint', 'product_quality', 'general', 'quality',
                '{}', '{}', $4, $5, now())",
        )
        .bind(Uuid::from_u128(i as u128 + 1))
        .bind(reference)
        .bind(Uuid::from_u128(1000 + i as u128))
        .bind(subject)
        .bind(content)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool
}

async fn ids(pool: &PgPool, mut b: QueryBuilder<'_, Postgres>) -> BTreeSet<Uuid> {
    b.build()
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.get(0))
        .collect()
}

/// Every query: every piece of 1 to 4 characters of every searched text, and some that match nothing.
fn queries() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (reference, subject, content) in CASES {
        let text = format!("{reference} {} {content}", subject.unwrap_or(""));
        let chars: Vec<char> = text.chars().collect();
        for n in 1..=4 {
            for w in chars.windows(n) {
                let q: String = w.iter().collect();
                if !q.trim().is_empty() && q.trim() == q {
                    out.insert(q);
                }
            }
        }
    }
    for q in [
        "火星",
        "霉发",
        "包装破损了",
        "box",
        "BOX",
        "Broken",
        "b2026",
        "% 错",
        "%错",
        "_请",
        "\\ 谢",
        "a批",
        "A批",
        "ss",
        "ß",
    ] {
        out.insert(q.to_owned());
    }
    out
}

#[tokio::test]
async fn text_search_finds_exactly_what_ilike_finds() {
    let pool = pool().await;
    let mut with_bigrams = 0;
    let mut matched = 0;
    for q in queries() {
        let mut searched = QueryBuilder::new("SELECT id FROM cases WHERE true");
        push_text_search(&mut searched, &q);
        let mut plain = QueryBuilder::new(
            "SELECT id FROM cases WHERE (reference || ' ' || coalesce(subject, '') || ' ' || content) ILIKE '%' || ",
        );
        let escaped = q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        plain.push_bind(escaped).push(" || '%'");
        let (got, want) = (ids(&pool, searched).await, ids(&pool, plain).await);
        assert_eq!(got, want, "query {q:?}");
        // The bigram condition alone never loses a match either.
        let mut bigrams_only = QueryBuilder::new("SELECT id FROM cases WHERE search_bigrams @> cjk_bigrams(");
        bigrams_only.push_bind(q.clone()).push(")");
        let candidates = ids(&pool, bigrams_only).await;
        if needs_bigrams(&q) {
            assert!(
                want.is_subset(&candidates),
                "query {q:?}: {want:?} not in {candidates:?}"
            );
            with_bigrams += 1;
        }
        matched += usize::from(!want.is_empty());
    }
    assert!(with_bigrams > 80, "only {with_bigrams} queries used the bigrams");
    assert!(matched > 500, "only {matched} queries matched anything");
}

#[tokio::test]
async fn bigrams_are_lower_cased_and_contain_a_cjk_character() {
    let pool = pool().await;
    let grams = |text: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT unnest(cjk_bigrams($1))")
                .bind(text)
                .fetch_all(&pool)
                .await
                .unwrap()
                .into_iter()
                .collect::<BTreeSet<String>>()
        }
    };
    let set = |g: &[&str]| g.iter().map(|s| s.to_string()).collect::<BTreeSet<String>>();
    assert_eq!(
        grams("Ａ批 Batch 发霉了 bAd").await,
        set(&["ａ批", "批 ", " 发", "发霉", "霉了", "了 "])
    );
    assert_eq!(grams("plain English, one character 发").await, set(&[" 发"]));
    assert_eq!(grams("plain English").await, set(&[]));
    assert!(needs_bigrams("发霉") && needs_bigrams("a批") && needs_bigrams("포장"));
    assert!(!needs_bigrams("霉") && !needs_bigrams("发霉变") && !needs_bigrams("ab"));
    // With many cases, a rare 2-character word is found through the index.
    sqlx::query(
        "INSERT INTO cases (id, reference, feedback_id, site, channel, status, class, category, severity,
            department, decided_by, customer, content, received_at)
         SELECT gen_random_uuid(), 'BULK-' || i, gen_random_uuid(), 'sh01', 'web', 'new', 'complaint',
                'product_quality', 'general', 'quality', '{}', '{}', '第' || i || '批产品到货时包装破损', now()
           FROM generate_series(1, 20000) i",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE cases").execute(&pool).await.unwrap();
    let mut b = QueryBuilder::new("EXPLAIN SELECT id FROM cases WHERE true");
    push_text_search(&mut b, "发霉");
    let plan: Vec<String> = b.build_query_scalar().persistent(false).fetch_all(&pool).await.unwrap();
    assert!(plan.join("\n").contains("cases_search_bigrams"), "{}", plan.join("\n"));
}
