//! The 8D report of a product-quality complaint (domain.md §4; 001 §5.9–5.11): D1 team, D2 problem,
//! D3 containment, D4 root cause, D5 corrective actions, D6 implementation and verification, D7 prevention,
//! D8 closure. Every action has an owner and a due date and is verified for effect before the report closes.
//!
//! Pure decisions here; `routes::quality` loads, locks, calls these and stores the result with the case history.
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub enum Discipline {
    D1,
    D2,
    D3,
    D4,
    D5,
    D6,
    D7,
    D8,
}

/// One thing D8 waits for (serialised with its `code`).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Missing {
    /// D1 names nobody.
    NoTeam,
    /// A section (D2–D7) is empty.
    EmptySection { discipline: Discipline },
    /// D4 has no root-cause category.
    NoCauseCategory,
    /// No D5 corrective action.
    NoCorrectiveAction,
    ActionNotDone {
        action: Uuid,
        discipline: Discipline,
        description: String,
    },
    /// Done, but its effect not verified as effective.
    ActionNotVerified {
        action: Uuid,
        discipline: Discipline,
        description: String,
    },
}

impl Missing {
    /// In English words.
    pub fn describe(&self) -> String {
        let section = |d: &Discipline| match d {
            Discipline::D2 => "D2: problem description",
            Discipline::D3 => "D3: containment",
            Discipline::D4 => "D4: root cause",
            Discipline::D5 => "D5: corrective actions",
            Discipline::D6 => "D6: implementation and verification",
            Discipline::D7 => "D7: prevention",
            _ => "a section",
        };
        match self {
            Missing::NoTeam => "D1: no team member".to_owned(),
            Missing::EmptySection { discipline } => format!("{} is empty", section(discipline)),
            Missing::NoCauseCategory => "D4: no root-cause category chosen".to_owned(),
            Missing::NoCorrectiveAction => "D5: no corrective action".to_owned(),
            Missing::ActionNotDone {
                discipline,
                description,
                ..
            } => {
                format!("{discipline:?} action \"{description}\" is not done")
            }
            Missing::ActionNotVerified {
                discipline,
                description,
                ..
            } => {
                format!("{discipline:?} action \"{description}\" has no effective verification")
            }
        }
    }
}

impl Discipline {
    /// The disciplines that carry actions with owners and due dates.
    pub const WITH_ACTIONS: [Discipline; 4] = [Discipline::D3, Discipline::D5, Discipline::D6, Discipline::D7];
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct TeamMember {
    pub name: String,
    #[serde(default)]
    pub role: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Verification {
    pub effective: bool,
    pub note: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct EightDAction {
    pub id: Uuid,
    pub discipline: Discipline,
    pub description: String,
    pub owner: String,
    pub due_date: NaiveDate,
    pub done_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub done_note: String,
    /// The latest verification of effect; an ineffective one sends the action back to open.
    pub verification: Option<Verification>,
}

impl EightDAction {
    pub fn is_verified_effective(&self) -> bool {
        self.done_at.is_some() && self.verification.as_ref().is_some_and(|v| v.effective)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Closure {
    pub note: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// The report. Text sections D2–D7 describe; the actions carry the work.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct EightD {
    pub team: Vec<TeamMember>,
    pub problem: String,
    pub containment: String,
    pub root_cause: String,
    /// D4's root-cause category (configured list, e.g. design, material, process); reports count it.
    #[serde(default)]
    pub cause_category: String,
    pub corrective: String,
    pub verification: String,
    pub prevention: String,
    pub actions: Vec<EightDAction>,
    pub closure: Option<Closure>,
}

/// A partial edit of the text sections; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SectionsPatch {
    pub team: Option<Vec<TeamMember>>,
    pub problem: Option<String>,
    pub containment: Option<String>,
    pub root_cause: Option<String>,
    pub cause_category: Option<String>,
    pub corrective: Option<String>,
    pub verification: Option<String>,
    pub prevention: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAction {
    pub discipline: Discipline,
    pub description: String,
    pub owner: String,
    pub due_date: NaiveDate,
}

#[derive(Debug, Error, PartialEq)]
pub enum EightDError {
    /// Invalid input; names the field.
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("the 8D report is closed (D8); reopen the case to change it")]
    Closed,
    #[error("no action {0} in this 8D report")]
    NoSuchAction(Uuid),
    #[error("the action must be marked done before its effect is verified")]
    NotDone,
    /// D8 refused: what is still missing, in order.
    #[error("the 8D report cannot be closed yet: {}", .0.join("; "))]
    Incomplete(Vec<String>),
}

const MAX_TEXT: usize = 20_000;

fn text(field: &'static str, value: &str) -> Result<String, EightDError> {
    let v = value.trim();
    if v.chars().count() > MAX_TEXT {
        return Err(EightDError::Invalid {
            field,
            message: format!("at most {MAX_TEXT} characters"),
        });
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err(EightDError::Invalid {
            field,
            message: "contains control characters".into(),
        });
    }
    Ok(v.to_owned())
}

fn required(field: &'static str, value: &str) -> Result<String, EightDError> {
    let v = text(field, value)?;
    if v.is_empty() {
        return Err(EightDError::Invalid {
            field,
            message: "is required".into(),
        });
    }
    Ok(v)
}

impl EightD {
    fn open(&self) -> Result<(), EightDError> {
        match self.closure {
            Some(_) => Err(EightDError::Closed),
            None => Ok(()),
        }
    }

    fn action_mut(&mut self, id: Uuid) -> Result<&mut EightDAction, EightDError> {
        self.actions
            .iter_mut()
            .find(|a| a.id == id)
            .ok_or(EightDError::NoSuchAction(id))
    }

    pub fn edit(&self, patch: SectionsPatch) -> Result<EightD, EightDError> {
        self.open()?;
        let mut next = self.clone();
        if let Some(team) = patch.team {
            let mut members = Vec::with_capacity(team.len());
            for m in team {
                members.push(TeamMember {
                    name: required("team.name", &m.name)?,
                    role: text("team.role", &m.role)?,
                });
            }
            next.team = members;
        }
        let sections: [(&'static str, Option<String>, &mut String); 7] = [
            ("problem", patch.problem, &mut next.problem),
            ("containment", patch.containment, &mut next.containment),
            ("root_cause", patch.root_cause, &mut next.root_cause),
            ("cause_category", patch.cause_category, &mut next.cause_category),
            ("corrective", patch.corrective, &mut next.corrective),
            ("verification", patch.verification, &mut next.verification),
            ("prevention", patch.prevention, &mut next.prevention),
        ];
        for (field, value, slot) in sections {
            if let Some(v) = value {
                *slot = text(field, &v)?;
            }
        }
        Ok(next)
    }

    pub fn add_action(&self, new: NewAction, id: Uuid) -> Result<EightD, EightDError> {
        self.open()?;
        if !Discipline::WITH_ACTIONS.contains(&new.discipline) {
            return Err(EightDError::Invalid {
                field: "discipline",
                message: "actions belong to D3, D5, D6 or D7".into(),
            });
        }
        let mut next = self.clone();
        next.actions.push(EightDAction {
            id,
            discipline: new.discipline,
            description: required("description", &new.description)?,
            owner: required("owner", &new.owner)?,
            due_date: new.due_date,
            done_at: None,
            done_note: String::new(),
            verification: None,
        });
        Ok(next)
    }

    pub fn mark_done(&self, id: Uuid, note: &str, at: DateTime<Utc>) -> Result<EightD, EightDError> {
        self.open()?;
        let note = text("note", note)?;
        let mut next = self.clone();
        let action = next.action_mut(id)?;
        action.done_at = Some(at);
        action.done_note = note;
        Ok(next)
    }

    /// Records the verification of effect (001 §5.10: "追踪验证其改善效果"). An ineffective action is open again.
    pub fn verify(
        &self,
        id: Uuid,
        effective: bool,
        note: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<EightD, EightDError> {
        self.open()?;
        let note = required("note", note)?;
        let mut next = self.clone();
        let action = next.action_mut(id)?;
        if action.done_at.is_none() {
            return Err(EightDError::NotDone);
        }
        action.verification = Some(Verification {
            effective,
            note,
            by: by.to_owned(),
            at,
        });
        if !effective {
            action.done_at = None;
        }
        Ok(next)
    }

    /// What D8 still waits for, in words (English, for the API's messages); empty when the report may close.
    pub fn missing(&self) -> Vec<String> {
        self.missing_items().iter().map(Missing::describe).collect()
    }

    /// What D8 still waits for, as data a user interface can word in any language.
    pub fn missing_items(&self) -> Vec<Missing> {
        let mut missing = Vec::new();
        if self.team.is_empty() {
            missing.push(Missing::NoTeam);
        }
        for (d, value) in [
            (Discipline::D2, &self.problem),
            (Discipline::D3, &self.containment),
            (Discipline::D4, &self.root_cause),
            (Discipline::D5, &self.corrective),
            (Discipline::D6, &self.verification),
            (Discipline::D7, &self.prevention),
        ] {
            if value.is_empty() {
                missing.push(Missing::EmptySection { discipline: d });
            }
        }
        if self.cause_category.is_empty() {
            missing.push(Missing::NoCauseCategory);
        }
        if !self.actions.iter().any(|a| a.discipline == Discipline::D5) {
            missing.push(Missing::NoCorrectiveAction);
        }
        for a in &self.actions {
            if a.done_at.is_none() {
                missing.push(Missing::ActionNotDone {
                    action: a.id,
                    discipline: a.discipline,
                    description: a.description.clone(),
                });
            } else if !a.is_verified_effective() {
                missing.push(Missing::ActionNotVerified {
                    action: a.id,
                    discipline: a.discipline,
                    description: a.description.clone(),
                });
            }
        }
        missing
    }

    /// D8: closes the report when everything before it is complete.
    pub fn close(&self, note: &str, by: &str, at: DateTime<Utc>) -> Result<EightD, EightDError> {
        self.open()?;
        let note = required("note", note)?;
        let missing = self.missing();
        if !missing.is_empty() {
            return Err(EightDError::Incomplete(missing));
        }
        let mut next = self.clone();
        next.closure = Some(Closure {
            note,
            by: by.to_owned(),
            at,
        });
        Ok(next)
    }
}

/// What a rendered report says about its case.
pub struct CaseHeading<'a> {
    pub reference: &'a str,
    pub subject: &'a str,
    pub product: &'a str,
    pub batch: &'a str,
}

struct Labels {
    title: &'static str,
    case: &'static str,
    product: &'static str,
    batch: &'static str,
    sections: [&'static str; 8],
    owner: &'static str,
    due: &'static str,
    done: &'static str,
    open: &'static str,
    verified: &'static str,
    not_verified: &'static str,
    closed_by: &'static str,
}

const ZH: Labels = Labels {
    title: "8D 报告",
    case: "案件编号",
    product: "产品",
    batch: "批号",
    sections: [
        "D1 小组成员",
        "D2 问题描述",
        "D3 临时围堵措施",
        "D4 根本原因",
        "D5 纠正措施",
        "D6 实施与效果验证",
        "D7 预防措施",
        "D8 结案",
    ],
    owner: "责任人",
    due: "完成日期",
    done: "已完成",
    open: "未完成",
    verified: "效果已验证",
    not_verified: "效果未验证",
    closed_by: "结案人",
};

const EN: Labels = Labels {
    title: "8D report",
    case: "Case",
    product: "Product",
    batch: "Batch",
    sections: [
        "D1 Team",
        "D2 Problem description",
        "D3 Containment",
        "D4 Root cause",
        "D5 Corrective actions",
        "D6 Implementation and verification",
        "D7 Prevention",
        "D8 Closure",
    ],
    owner: "Owner",
    due: "Due",
    done: "done",
    open: "open",
    verified: "effect verified",
    not_verified: "effect not verified",
    closed_by: "Closed by",
};

fn labels(language: &str) -> &'static Labels {
    if language.starts_with("zh") {
        &ZH
    } else {
        &EN
    }
}

/// The sections in order as (heading, text, actions of that discipline).
fn sections<'a>(r: &'a EightD, l: &Labels) -> Vec<(&'static str, String, Vec<&'a EightDAction>)> {
    let team = r
        .team
        .iter()
        .map(|m| {
            if m.role.is_empty() {
                m.name.clone()
            } else {
                format!("{} ({})", m.name, m.role)
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let of = |d: Discipline| r.actions.iter().filter(|a| a.discipline == d).collect::<Vec<_>>();
    let closure = r.closure.as_ref().map(|c| c.note.clone()).unwrap_or_default();
    vec![
        (l.sections[0], team, vec![]),
        (l.sections[1], r.problem.clone(), vec![]),
        (l.sections[2], r.containment.clone(), of(Discipline::D3)),
        (
            l.sections[3],
            if r.cause_category.is_empty() {
                r.root_cause.clone()
            } else {
                format!("[{}] {}", r.cause_category, r.root_cause)
            },
            vec![],
        ),
        (l.sections[4], r.corrective.clone(), of(Discipline::D5)),
        (l.sections[5], r.verification.clone(), of(Discipline::D6)),
        (l.sections[6], r.prevention.clone(), of(Discipline::D7)),
        (l.sections[7], closure, vec![]),
    ]
}

fn action_line(a: &EightDAction, l: &Labels) -> String {
    let state = if a.done_at.is_some() { l.done } else { l.open };
    let verified = if a.is_verified_effective() {
        l.verified
    } else {
        l.not_verified
    };
    format!(
        "{} — {}: {}, {}: {}, {state}, {verified}",
        a.description, l.owner, a.owner, l.due, a.due_date
    )
}

/// Plain text, for the body of an email to the customer.
pub fn render_text(r: &EightD, case: &CaseHeading, language: &str) -> String {
    let l = labels(language);
    let mut out = format!(
        "{} — {} {}\n{}: {}  {}: {}\n{}\n",
        l.title, l.case, case.reference, l.product, case.product, l.batch, case.batch, case.subject
    );
    for (heading, body, actions) in sections(r, l) {
        out.push_str(&format!("\n{heading}\n{}\n", if body.is_empty() { "—" } else { &body }));
        for a in actions {
            out.push_str(&format!("  • {}\n", action_line(a, l)));
        }
    }
    if let Some(c) = &r.closure {
        out.push_str(&format!("\n{}: {} ({})\n", l.closed_by, c.by, c.at.format("%Y-%m-%d")));
    }
    out
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A printable HTML page (every value escaped).
pub fn render_html(r: &EightD, case: &CaseHeading, language: &str) -> String {
    let l = labels(language);
    let lang = if language.starts_with("zh") { "zh-CN" } else { "en" };
    let mut out = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{title} {reference}</title>\
         <style>body{{font-family:sans-serif;max-width:50em;margin:2em auto}}h2{{border-bottom:1px solid #999}}\
         table{{border-collapse:collapse}}td{{padding:.2em .6em}}</style></head><body>\
         <h1>{title}</h1><table><tr><td>{case_l}</td><td>{reference}</td></tr>\
         <tr><td>{product_l}</td><td>{product}</td></tr><tr><td>{batch_l}</td><td>{batch}</td></tr></table>\
         <p>{subject}</p>",
        title = l.title,
        reference = escape(case.reference),
        case_l = l.case,
        product_l = l.product,
        product = escape(case.product),
        batch_l = l.batch,
        batch = escape(case.batch),
        subject = escape(case.subject),
    );
    for (heading, body, actions) in sections(r, l) {
        out.push_str(&format!(
            "<section><h2>{heading}</h2><p>{}</p>",
            escape(&body).replace('\n', "<br>")
        ));
        if !actions.is_empty() {
            out.push_str("<ul>");
            for a in actions {
                out.push_str(&format!("<li>{}</li>", escape(&action_line(a, l))));
            }
            out.push_str("</ul>");
        }
        out.push_str("</section>");
    }
    if let Some(c) = &r.closure {
        out.push_str(&format!(
            "<p>{}: {} ({})</p>",
            l.closed_by,
            escape(&c.by),
            c.at.format("%Y-%m-%d")
        ));
    }
    out.push_str("</body></html>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        "2026-11-20T08:00:00Z".parse().unwrap()
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
    }

    fn action(d: Discipline) -> NewAction {
        NewAction {
            discipline: d,
            description: format!("{d:?} action"),
            owner: "zhang.wei".into(),
            due_date: day(),
        }
    }

    fn filled() -> EightD {
        EightD::default()
            .edit(SectionsPatch {
                team: Some(vec![TeamMember {
                    name: "Zhang Wei".into(),
                    role: "quality".into(),
                }]),
                problem: Some("Cracked housings in batch B7".into()),
                containment: Some("Stock of B7 quarantined".into()),
                root_cause: Some("Mould temperature too low".into()),
                cause_category: Some("process".into()),
                corrective: Some("Mould heater replaced".into()),
                verification: Some("3 batches inspected".into()),
                prevention: Some("Temperature alarm added".into()),
            })
            .unwrap()
    }

    #[test]
    fn a_report_closes_only_when_every_section_is_written_and_every_action_verified_effective() {
        let r = EightD::default();
        let Err(EightDError::Incomplete(missing)) = r.close("done", "qe", at()) else {
            panic!("an empty report closed");
        };
        assert_eq!(missing.len(), 9, "{missing:?}"); // D1, D2–D7, the cause category, no D5 action

        let id = Uuid::from_u128(1);
        let r = filled().add_action(action(Discipline::D5), id).unwrap();
        assert!(matches!(r.close("done", "qe", at()), Err(EightDError::Incomplete(m)) if m.len() == 1));
        assert_eq!(r.verify(id, true, "ok", "qe", at()), Err(EightDError::NotDone));
        let r = r.mark_done(id, "heater installed", at()).unwrap();
        let r = r.verify(id, true, "no cracks in 3 batches", "qe", at()).unwrap();
        let closed = r.close("customer informed", "qe", at()).unwrap();
        assert_eq!(closed.closure.as_ref().unwrap().by, "qe");
        assert_eq!(closed.edit(SectionsPatch::default()), Err(EightDError::Closed));
        assert_eq!(
            closed.add_action(action(Discipline::D7), Uuid::from_u128(2)),
            Err(EightDError::Closed)
        );
    }

    #[test]
    fn an_ineffective_verification_reopens_the_action() {
        let id = Uuid::from_u128(1);
        let r = filled()
            .add_action(action(Discipline::D5), id)
            .unwrap()
            .mark_done(id, "", at())
            .unwrap()
            .verify(id, false, "cracks again in B9", "qe", at())
            .unwrap();
        assert!(r.actions[0].done_at.is_none());
        assert!(!r.actions[0].verification.as_ref().unwrap().effective);
        assert!(matches!(r.close("x", "qe", at()), Err(EightDError::Incomplete(m)) if m[0].contains("not done")));
    }

    #[test]
    fn actions_need_a_discipline_that_carries_actions_an_owner_and_a_description() {
        let r = EightD::default();
        for d in [Discipline::D1, Discipline::D2, Discipline::D4, Discipline::D8] {
            assert!(matches!(
                r.add_action(action(d), Uuid::nil()),
                Err(EightDError::Invalid {
                    field: "discipline",
                    ..
                })
            ));
        }
        let mut a = action(Discipline::D3);
        a.owner = "  ".into();
        assert!(matches!(
            r.add_action(a, Uuid::nil()),
            Err(EightDError::Invalid { field: "owner", .. })
        ));
        assert!(matches!(
            r.mark_done(Uuid::from_u128(9), "", at()),
            Err(EightDError::NoSuchAction(_))
        ));
    }

    #[test]
    fn edits_change_only_the_given_sections_and_refuse_control_characters() {
        let r = filled()
            .edit(SectionsPatch {
                root_cause: Some("Operator skipped the check".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(r.root_cause, "Operator skipped the check");
        assert_eq!(r.problem, "Cracked housings in batch B7");
        assert!(matches!(
            r.edit(SectionsPatch {
                problem: Some("bad\u{0}".into()),
                ..Default::default()
            }),
            Err(EightDError::Invalid { field: "problem", .. })
        ));
    }

    #[test]
    fn rendering_follows_the_language_and_escapes_html() {
        let id = Uuid::from_u128(1);
        let r = filled()
            .edit(SectionsPatch {
                problem: Some("<script>alert(1)</script>".into()),
                ..Default::default()
            })
            .unwrap()
            .add_action(action(Discipline::D5), id)
            .unwrap();
        let case = CaseHeading {
            reference: "SH01-20261120-0001",
            subject: "裂纹",
            product: "P-100",
            batch: "B7",
        };
        let zh = render_text(&r, &case, "zh-CN");
        assert!(zh.starts_with("8D 报告"));
        assert!(zh.contains("D4 根本原因\n[process] Mould temperature too low"));
        assert!(zh.contains("D5 action — 责任人: zhang.wei, 完成日期: 2026-11-30, 未完成, 效果未验证"));
        let en = render_html(&r, &case, "en");
        assert!(en.contains("<h2>D3 Containment</h2>"));
        assert!(en.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!en.contains("<script>"));
    }
}
