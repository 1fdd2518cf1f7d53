//! Who may read which cases, and who sees customers' personal data in clear.
use auth::Role;
use serde_json::Value;

use super::workflow::{may_act, Actor};

/// Roles that read every case (managers, administrators and auditors, who only read).
const READ_ALL: &[Role] = &[
    Role::GeneralManager,
    Role::MarketingManager,
    Role::ManagementRepresentative,
    Role::Administrator,
    Role::Auditor,
];

/// Reading follows acting (own department and site for handlers, department for heads), plus the
/// roles that read everything.
pub fn can_read(actor: &Actor, department: &str, site: &str) -> Result<(), String> {
    if actor.has_any(READ_ALL) {
        return Ok(());
    }
    may_act(actor, department, site)
}

/// How a case list is narrowed for `actor`: `None` means no restriction on that axis.
#[derive(Debug, PartialEq)]
pub struct ReadScope {
    pub department: Option<String>,
    pub sites: Option<Vec<String>>,
}

pub fn read_scope(actor: &Actor) -> ReadScope {
    if actor.has_any(READ_ALL) {
        return ReadScope {
            department: None,
            sites: None,
        };
    }
    let sites = (!actor.sites.is_empty()).then(|| actor.sites.clone());
    if actor.has(Role::DepartmentHead) {
        return ReadScope {
            department: actor.department.clone().or_else(|| Some(String::new())),
            sites: None,
        };
    }
    // Handlers, agents, quality engineers: their department (none → nothing) and sites.
    ReadScope {
        department: Some(actor.department.clone().unwrap_or_default()),
        sites,
    }
}

pub fn sees_personal_data(actor: &Actor, unmasked_roles: &[Role]) -> bool {
    actor.has_any(unmasked_roles)
}

/// The customer object with name, phone and email masked.
pub fn mask_customer(customer: &Value) -> Value {
    let mut c = customer.clone();
    if let Some(obj) = c.as_object_mut() {
        for (field, mask) in [
            ("name", telemetry::pii::mask_name as fn(&str) -> String),
            ("phone", telemetry::pii::mask_phone),
            ("email", telemetry::pii::mask_email),
        ] {
            if let Some(Value::String(v)) = obj.get(field) {
                let masked = mask(v);
                obj.insert(field.into(), Value::String(masked));
            }
        }
        obj.remove("contact_key");
    }
    c
}

/// The case's details with the adverse-reaction report (the customer's health: onset, dose, other medicines)
/// withheld, for roles that do not see personal data; which parts were given stays visible.
pub fn mask_details(details: &Value) -> Value {
    let mut d = details.clone();
    if let Some(Value::Object(reaction)) = d.get_mut("adverse_reaction") {
        for value in reaction.values_mut() {
            if !value.is_null() {
                *value = Value::String("***".into());
            }
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_details_are_withheld_and_the_rest_kept() {
        let d = serde_json::json!({"product": {"batch": "B-9"},
            "adverse_reaction": {"onset": "2 h", "dose": "10 mg", "other_medicines": null}});
        let m = mask_details(&d);
        assert_eq!(
            m["adverse_reaction"],
            serde_json::json!({"onset": "***", "dose": "***", "other_medicines": null})
        );
        assert_eq!(m["product"], d["product"]);
        assert_eq!(
            mask_details(&serde_json::json!({"adverse_reaction": null})),
            serde_json::json!({"adverse_reaction": null})
        );
    }

    fn actor(roles: Vec<Role>, department: Option<&str>, sites: Vec<&str>) -> Actor {
        Actor {
            id: "u".into(),
            name: "U".into(),
            roles,
            department: department.map(Into::into),
            sites: sites.into_iter().map(Into::into).collect(),
        }
    }

    #[test]
    fn handlers_read_their_department_and_site_managers_and_auditors_read_all() {
        let h = actor(vec![Role::Handler], Some("quality"), vec!["sh01"]);
        assert!(can_read(&h, "quality", "sh01").is_ok());
        assert!(can_read(&h, "sales", "sh01").is_err());
        assert!(can_read(&h, "quality", "bj01").is_err());
        let a = actor(vec![Role::Auditor], None, vec![]);
        assert!(can_read(&a, "sales", "bj01").is_ok());
        assert_eq!(
            read_scope(&h),
            ReadScope {
                department: Some("quality".into()),
                sites: Some(vec!["sh01".into()])
            }
        );
        let head = actor(vec![Role::DepartmentHead], Some("sales"), vec!["sh01"]);
        assert_eq!(read_scope(&head).department.as_deref(), Some("sales"));
        assert_eq!(read_scope(&head).sites, None);
    }

    #[test]
    fn auditors_see_customers_masked() {
        let unmasked = [Role::Handler];
        assert!(!sees_personal_data(
            &actor(vec![Role::Auditor], None, vec![]),
            &unmasked
        ));
        let masked = mask_customer(
            &serde_json::json!({"name":"张三丰","phone":"13812345678","email":"a@b.cn","contact_key":"tel:+86"}),
        );
        assert_eq!(masked["phone"], "138****5678");
        assert_eq!(masked["name"], "张**");
        assert!(masked.get("contact_key").is_none());
    }
}
