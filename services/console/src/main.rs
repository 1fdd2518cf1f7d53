use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init("console");
    let settings = console::settings::Settings::load()?;
    let app = console::startup::build(settings).await?;
    let stop = CancellationToken::new();
    tokio::spawn({
        let stop = stop.clone();
        async move {
            server::shutdown_signal().await;
            stop.cancel();
        }
    });
    app.run_until_stopped(stop).await
}
