//! docker-compose.yml cannot run here (no Docker engine), so check that it parses and is complete.
use serde_yaml::Value;

#[test]
fn compose_file_parses_and_names_every_service_with_a_healthcheck() {
    let root = testkit::mail::workspace_root();
    let text = std::fs::read_to_string(root.join("docker-compose.yml")).expect("docker-compose.yml");
    let doc: Value = serde_yaml::from_str(&text).expect("valid YAML");
    let services = doc["services"].as_mapping().expect("a services map");
    for name in testkit::services::SERVICES {
        let svc = &services[name];
        assert!(svc.is_mapping(), "service {name} is defined");
        assert!(svc["healthcheck"].is_mapping(), "{name} has a healthcheck");
        let env = serde_yaml::to_string(&svc["environment"]).unwrap();
        assert!(
            env.contains("APP__DATABASE__URL") && env.contains("APP__BUS__URL"),
            "{name} is configured"
        );
    }
    for infra in ["rabbitmq", "postgres"] {
        assert!(services[infra].is_mapping(), "{infra} is defined");
    }
    assert!(root.join("deploy/Dockerfile").exists());
}
