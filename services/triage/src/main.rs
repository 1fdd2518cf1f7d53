use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = triage::settings::Settings::load()?;
    if std::env::args().nth(1).as_deref() == Some("admin-token") {
        println!("{}", triage::startup::admin_token(&settings)?);
        return Ok(());
    }
    telemetry::init("triage");
    let service = triage::startup::build(settings).await?;
    let stop = CancellationToken::new();
    tokio::spawn({
        let stop = stop.clone();
        async move {
            server::shutdown_signal().await;
            stop.cancel();
        }
    });
    service.run_until_stopped(stop).await
}
