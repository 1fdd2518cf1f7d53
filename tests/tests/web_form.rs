//! The public web form, end to end: the real services, the form driven in headless Chromium
//! (WebDriver), and its abuse protection over plain HTTP.
mod common;

use std::{path::PathBuf, time::Duration};

use common::{world, World};
use fantoccini::Locator;
use reqwest::multipart::{Form, Part};
use sha2::{Digest, Sha256};
use testkit::{browser::Browser, eventually, Infra};

/// A real 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D,
    0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn temp_dir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("web-form-{label}-{}", testkit::unique()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn web_world(attachments: &std::path::Path, extra: &[(&str, &str)]) -> World {
    let infra = Infra::from_env();
    let mut env = vec![("APP__ATTACHMENTS__DIR".to_owned(), attachments.display().to_string())];
    env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    world(&infra.amqp_url, infra.rabbit_node.clone(), env).await
}

fn good_form() -> Form {
    Form::new()
        .text("lang", "en")
        .text("site", "sh01")
        .text("name", "Li Si")
        .text("email", "li.si@example.com")
        .text("feedback_type", "logistics")
        .text("order_number", "SO-778")
        .text("description", "The parcel arrived two weeks late.")
        .text("website", "")
}

async fn post_form(w: &World, form: Form) -> (u16, String) {
    let r = w
        .http
        .post(format!("{}/feedback", w.stack.url("intake")))
        .multipart(form)
        .send()
        .await
        .expect("intake answers");
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

async fn registered(w: &World) -> i64 {
    w.count("intake", "SELECT count(*) FROM feedback").await
}

/// Checks the register row, its attachment row and the stored file for `reference`.
async fn assert_stored(w: &World, dir: &std::path::Path, reference: &str, bytes: &[u8], content_type: &str) {
    let pool = w.stack.pool("intake").await.unwrap();
    let (channel, feedback_type): (String, Option<String>) =
        sqlx::query_as("SELECT channel, details->>'feedback_type' FROM feedback WHERE reference = $1")
            .bind(reference)
            .fetch_one(&pool)
            .await
            .expect("the feedback row");
    assert_eq!(channel, "web");
    assert!(feedback_type.is_some(), "the type hint is in the details");
    let rows: Vec<(String, i64, String, String)> = sqlx::query_as(
        "SELECT a.sha256, a.size, a.content_type, a.storage_key FROM attachments a
           JOIN feedback f ON f.id = a.feedback_id WHERE f.reference = $1",
    )
    .bind(reference)
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    assert_eq!(rows.len(), 1, "one attachment row");
    let (sha, size, ct, key) = &rows[0];
    assert_eq!(sha, &sha256_hex(bytes));
    assert_eq!(*size as usize, bytes.len());
    assert_eq!(ct, content_type);
    let file = std::fs::read(dir.join(&key[..2]).join(key)).expect("the stored file");
    assert_eq!(sha256_hex(&file), *sha, "the stored file's SHA-256 matches");
}

#[tokio::test]
async fn the_form_in_a_browser_registers_feedback_with_its_attachment() {
    let dir = temp_dir("attachments");
    let w = web_world(&dir, &[]).await;
    let intake = w.stack.url("intake");
    let shots = testkit::browser::screenshot_dir();
    let photo = temp_dir("upload").join("carton.png");
    std::fs::write(&photo, PNG).unwrap();

    let browser = Browser::start(900, 2300).await.expect("headless Chromium starts");
    let b = &browser.client;

    // Chinese, then English by the visible switch (remembered in a cookie).
    b.goto(&format!("{intake}/feedback?lang=zh-CN")).await.unwrap();
    assert_eq!(b.title().await.unwrap(), "意见反馈");
    assert_eq!(
        b.find(Locator::Css("label[for=description]"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "详细描述 *"
    );
    browser.screenshot(shots.join("web-form-zh-CN.png")).await.unwrap();
    // On a phone: one column, nothing wider than the screen.
    b.set_window_size(390, 2300).await.unwrap();
    let overflow = b
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        overflow,
        serde_json::Value::Bool(false),
        "no horizontal scrolling on a phone"
    );
    browser
        .screenshot(shots.join("web-form-zh-CN-phone.png"))
        .await
        .unwrap();
    b.set_window_size(900, 2300).await.unwrap();
    b.find(Locator::Css("a[hreflang=en]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(b.title().await.unwrap(), "Customer feedback");
    b.goto(&format!("{intake}/feedback")).await.unwrap();
    assert_eq!(
        b.title().await.unwrap(),
        "Customer feedback",
        "the choice is remembered"
    );
    browser.screenshot(shots.join("web-form-en.png")).await.unwrap();

    // An invalid email: the error next to the field, everything typed kept.
    let fill = |css: &'static str, text: &'static str| async move {
        let e = b.find(Locator::Css(css)).await.unwrap();
        e.clear().await.unwrap();
        e.send_keys(text).await.unwrap();
    };
    fill("#name", "Zhang San").await;
    fill("#email", "not-an-email").await;
    fill("#product_code", "P-100").await;
    fill("#batch", "B2026-11").await;
    fill("#claim_amount", "150.00").await;
    fill("#return_quantity", "2").await;
    fill("#description", "The carton was crushed and two bottles leaked.").await;
    b.find(Locator::Css("#feedback_type"))
        .await
        .unwrap()
        .select_by_value("product_quality")
        .await
        .unwrap();
    b.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let error = b.wait().for_element(Locator::Css("#email-error")).await.unwrap();
    assert_eq!(error.text().await.unwrap(), "Please enter a valid email address.");
    let value = |css: &'static str| async move {
        b.find(Locator::Css(css))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default()
    };
    assert_eq!(value("#name").await, "Zhang San");
    assert_eq!(value("#email").await, "not-an-email");
    assert_eq!(value("#product_code").await, "P-100");
    assert_eq!(value("#batch").await, "B2026-11");
    assert_eq!(value("#claim_amount").await, "150.00");
    assert_eq!(value("#return_quantity").await, "2");
    assert_eq!(value("#feedback_type").await, "product_quality");
    assert_eq!(
        value("#description").await,
        "The carton was crushed and two bottles leaked."
    );
    assert_eq!(
        b.find(Locator::Css("#email"))
            .await
            .unwrap()
            .attr("aria-invalid")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    browser.screenshot(shots.join("web-form-error-en.png")).await.unwrap();
    assert_eq!(registered(&w).await, 0, "nothing registered on a validation error");

    // Corrected, with a photo attached: registered, the reference shown.
    fill("#email", "zhang.san@example.com").await;
    b.find(Locator::Css("#attachments"))
        .await
        .unwrap()
        .send_keys(&photo.display().to_string())
        .await
        .unwrap();
    b.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let reference = b
        .wait()
        .for_element(Locator::Css("#reference"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(reference.starts_with("SH01-"), "{reference}");
    assert!(b.source().await.unwrap().contains("carton.png"));
    browser.screenshot(shots.join("web-form-done-en.png")).await.unwrap();
    assert_stored(&w, &dir, &reference, PNG, "image/png").await;

    // The status page, from the link on the confirmation.
    b.find(Locator::Css("#status-link"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait().for_element(Locator::Css("#status")).await.unwrap();
    let shown = b.find(Locator::Css("#reference")).await.unwrap().text().await.unwrap();
    assert_eq!(shown, reference);
    assert_eq!(
        b.find(Locator::Css("#status")).await.unwrap().text().await.unwrap(),
        "Registered, waiting to be handled"
    );
    browser.screenshot(shots.join("web-status-en.png")).await.unwrap();
    // Its language switch keeps the token.
    b.find(Locator::Css("a[hreflang=zh-CN]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait()
        .for_element(Locator::XPath("//dd[@id='status' and text()='已登记，等待处理']"))
        .await
        .expect("the status page in Chinese");
    browser.screenshot(shots.join("web-status-zh-CN.png")).await.unwrap();

    // A second one in Chinese, anonymous.
    b.goto(&format!("{intake}/feedback?lang=zh-CN")).await.unwrap();
    b.find(Locator::Css("#anonymous")).await.unwrap().click().await.unwrap();
    fill("#description", "建议在包装上增加英文说明。").await;
    b.find(Locator::Css("#feedback_type"))
        .await
        .unwrap()
        .select_by_value("suggestion")
        .await
        .unwrap();
    b.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let second = b
        .wait()
        .for_element(Locator::Css("#reference"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(second.starts_with("SH01-") && second != reference, "{second}");
    assert!(b.source().await.unwrap().contains("已收到您的反馈"));
    browser.screenshot(shots.join("web-form-done-zh-CN.png")).await.unwrap();
    browser.close().await;

    // Its `feedback.received` event carries the attachment and leaves for the broker.
    let pool = w.stack.pool("intake").await.unwrap();
    let event: serde_json::Value = eventually(Duration::from_secs(20), "the published event", || async {
        sqlx::query_scalar(
            "SELECT payload FROM outbox WHERE payload->'data'->>'reference' = $1 AND published_at IS NOT NULL",
        )
        .bind(&reference)
        .fetch_optional(&pool)
        .await
        .unwrap()
    })
    .await;
    pool.close().await;
    let attachments = &event["data"]["attachments"];
    assert_eq!(attachments.as_array().map(Vec::len), Some(1), "{event}");
    assert_eq!(attachments[0]["sha256"], sha256_hex(PNG));
    assert_eq!(attachments[0]["size"], PNG.len());
    assert_eq!(attachments[0]["content_type"], "image/png");
    assert_eq!(attachments[0]["file_name"], "carton.png");
    assert_eq!(event["data"]["channel"], "web");
    // Personal data never reaches the log.
    let log = w.stack.logs("intake");
    for secret in ["zhang.san@example.com", "Zhang San", "not-an-email"] {
        assert!(!log.contains(secret), "intake logged {secret}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn abusive_or_broken_submissions_are_refused_and_register_nothing() {
    let dir = temp_dir("attachments");
    let w = web_world(&dir, &[("APP__WEB__MAX_ATTACHMENT_BYTES", "100000")]).await;

    // The honeypot: a neutral answer, nothing registered.
    let (status, body) = post_form(&w, good_form().text("website", "http://spam.example")).await;
    assert_eq!(status, 200);
    assert!(body.contains("Thank you"), "{body}");
    assert_eq!(registered(&w).await, 0);

    // An executable dressed up as a photo: refused by its content.
    let elf = [b"\x7fELF\x02\x01\x01\0".as_slice(), &[0u8; 64]].concat();
    let part = Part::bytes(elf).file_name("photo.png").mime_str("image/png").unwrap();
    let (status, body) = post_form(&w, good_form().part("attachments", part)).await;
    assert_eq!(status, 415);
    assert!(body.contains("is not of an accepted type"), "{body}");
    assert!(body.contains("Li Si"), "the typed values are kept");
    assert_eq!(registered(&w).await, 0);

    // Too large an attachment.
    let big = [PNG, &vec![0u8; 150_000]].concat();
    let part = Part::bytes(big).file_name("big.png").mime_str("image/png").unwrap();
    let (status, body) = post_form(&w, good_form().part("attachments", part)).await;
    assert_eq!(status, 413);
    assert!(body.contains("is too large"), "{body}");
    assert_eq!(registered(&w).await, 0);

    // A missing description, in Chinese: the form again with the error next to the field.
    let form = good_form().text("lang", "zh-CN").text("description", " ");
    let (status, body) = post_form(&w, form).await;
    assert_eq!(status, 422);
    assert!(body.contains(r#"id="description-error">请填写此项。"#), "{body}");
    assert_eq!(registered(&w).await, 0);

    // A good one with a text attachment: registered with its file.
    let text = "订单 SO-778 的快递单号：SF1234567890\n".as_bytes();
    let part = Part::bytes(text.to_vec())
        .file_name("快递单.txt")
        .mime_str("text/plain")
        .unwrap();
    let (status, body) = post_form(&w, good_form().part("attachments", part)).await;
    assert_eq!(status, 201, "{body}");
    let reference = body
        .split(r#"id="reference">"#)
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("the reference on the page")
        .to_owned();
    assert_stored(&w, &dir, &reference, text, "text/plain").await;

    // The JSON API is unchanged beside the form.
    assert_eq!(w.post_feedback(&common::complaint(1)).await.status(), 201);
    assert_eq!(registered(&w).await, 2);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn too_many_submissions_from_one_address_are_refused() {
    let dir = temp_dir("attachments");
    let w = web_world(&dir, &[("APP__WEB__RATE_LIMIT_BURST", "3")]).await;
    for _ in 0..3 {
        let (status, body) = post_form(&w, good_form()).await;
        assert_eq!(status, 201, "{body}");
    }
    let r = w
        .http
        .post(format!("{}/feedback", w.stack.url("intake")))
        .header("accept-language", "en-GB,en;q=0.9")
        .multipart(good_form())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
    assert!(r.text().await.unwrap().contains("Too many submissions"));
    assert_eq!(registered(&w).await, 3);
    // Reading the form is not limited.
    let r = w
        .http
        .get(format!("{}/feedback", w.stack.url("intake")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let _ = std::fs::remove_dir_all(dir);
}
