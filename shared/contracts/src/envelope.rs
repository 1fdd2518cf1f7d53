use chrono::{DateTime, Utc};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use uuid::Uuid;

/// A domain event's identity: routing-key prefix and schema version.
pub trait Event: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Dotted event name, e.g. `feedback.received`; the routing key is `<TYPE>.<site>`.
    const TYPE: &'static str;
    const VERSION: u32;
}

/// The JSON envelope every message carries (contract.md, "Events").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Envelope<T> {
    /// Unique per event; also the AMQP `message_id` and the consumers' dedup key.
    pub id: Uuid,
    #[serde(rename = "type")]
    pub event_type: String,
    pub version: u32,
    pub occurred_at: DateTime<Utc>,
    pub site: String,
    /// Ties together every event caused by one piece of feedback.
    pub correlation_id: Uuid,
    pub data: T,
}

/// An envelope whose data has not been interpreted yet (what a consumer first parses).
pub type RawEnvelope = Envelope<serde_json::Value>;

impl<T: Event> Envelope<T> {
    pub fn new(site: impl Into<String>, correlation_id: Uuid, data: T) -> Self {
        Self {
            id: Uuid::now_v7(),
            event_type: T::TYPE.to_owned(),
            version: T::VERSION,
            occurred_at: Utc::now(),
            site: site.into(),
            correlation_id,
            data,
        }
    }
}

impl<T> Envelope<T> {
    /// `<event>.<site>`: lets a deployment bind queues per site.
    pub fn routing_key(&self) -> String {
        routing_key(&self.event_type, &self.site)
    }
}

pub fn routing_key(event_type: &str, site: &str) -> String {
    format!("{event_type}.{site}")
}

impl RawEnvelope {
    /// Interprets the data as `T`, checking the type and that the version is one this build understands.
    pub fn decode<T: Event>(&self) -> Result<Envelope<T>, DecodeError> {
        if self.event_type != T::TYPE {
            return Err(DecodeError::WrongType {
                expected: T::TYPE,
                found: self.event_type.clone(),
            });
        }
        if self.version > T::VERSION {
            return Err(DecodeError::UnsupportedVersion {
                event: T::TYPE,
                version: self.version,
            });
        }
        let data = serde_json::from_value(self.data.clone()).map_err(DecodeError::Data)?;
        Ok(Envelope {
            id: self.id,
            event_type: self.event_type.clone(),
            version: self.version,
            occurred_at: self.occurred_at,
            site: self.site.clone(),
            correlation_id: self.correlation_id,
            data,
        })
    }
}

#[derive(Debug)]
pub enum DecodeError {
    WrongType { expected: &'static str, found: String },
    UnsupportedVersion { event: &'static str, version: u32 },
    Data(serde_json::Error),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::WrongType { expected, found } => {
                write!(f, "expected event {expected}, found {found}")
            }
            Self::UnsupportedVersion { event, version } => {
                write!(f, "{event} version {version} is newer than this service understands")
            }
            Self::Data(e) => write!(f, "event data does not match its contract: {e}"),
        }
    }
}

impl std::error::Error for DecodeError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deadline::DeadlineBreachedV1;

    fn sample() -> Envelope<DeadlineBreachedV1> {
        Envelope::new(
            "sh01",
            Uuid::nil(),
            DeadlineBreachedV1 {
                case_id: Uuid::nil(),
                case_reference: "SH01-20261122-0001".into(),
                clock: "registration".into(),
                due_at: Utc::now(),
                level: 1,
                late: false,
            },
        )
    }

    #[test]
    fn envelope_serialises_with_contract_field_names() {
        let json = serde_json::to_value(sample()).unwrap();
        for key in ["id", "type", "version", "occurred_at", "site", "correlation_id", "data"] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
        assert_eq!(json["type"], "deadline.breached");
    }

    #[test]
    fn raw_envelope_decodes_to_its_type_and_refuses_another() {
        let raw: RawEnvelope = serde_json::from_value(serde_json::to_value(sample()).unwrap()).unwrap();
        assert_eq!(raw.decode::<DeadlineBreachedV1>().unwrap().data.level, 1);
        assert!(raw.decode::<crate::case::CaseOpenedV1>().is_err());
    }

    #[test]
    fn newer_version_is_refused() {
        let mut raw: RawEnvelope = serde_json::from_value(serde_json::to_value(sample()).unwrap()).unwrap();
        raw.version = 99;
        assert!(matches!(
            raw.decode::<DeadlineBreachedV1>(),
            Err(DecodeError::UnsupportedVersion { .. })
        ));
    }

    #[test]
    fn routing_key_is_event_dot_site() {
        assert_eq!(sample().routing_key(), "deadline.breached.sh01");
    }
}
