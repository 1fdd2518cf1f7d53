use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init("scheduler");
    let settings = scheduler::settings::Settings::load()?;
    let service = scheduler::startup::build(settings).await?;
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
