//! A query-string extractor whose rejections are `ApiError`s naming the parameter at fault (axum's own
//! `Query` answers in plain text).
use axum::{extract::FromRequestParts, http::request::Parts};
use serde::de::DeserializeOwned;

use crate::ApiError;

pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parse(parts.uri.query().unwrap_or_default()).map(ApiQuery)
    }
}

/// Parses a query string; a parameter of the wrong form is a 422 naming it.
pub fn parse<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        let field = if path == "." {
            // serde names an unknown variant or a missing field only in its message.
            message
                .split('`')
                .nth(1)
                .filter(|_| message.starts_with("missing field"))
                .map(str::to_owned)
                .unwrap_or_else(|| "query".to_owned())
        } else {
            path
        };
        ApiError::invalid(field, message)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Q {
        limit: Option<i64>,
        sort: Option<Sort>,
        text: Option<String>,
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Sort {
        Newest,
        Due,
    }

    #[test]
    fn names_the_parameter_of_the_wrong_form() {
        let e = parse::<Q>("limit=ten").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("limit"));
        assert_eq!(e.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
        let e = parse::<Q>("sort=oldest").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("sort"));
        assert!(e.message.contains("oldest"), "{}", e.message);
    }

    #[test]
    fn decodes_what_is_well_formed() {
        let q = parse::<Q>("limit=5&sort=due&text=%E5%8F%91%E9%9C%89").unwrap();
        assert_eq!(
            (q.limit, q.sort, q.text.as_deref()),
            (Some(5), Some(Sort::Due), Some("发霉"))
        );
        assert!(parse::<Q>("").unwrap().limit.is_none());
    }
}
