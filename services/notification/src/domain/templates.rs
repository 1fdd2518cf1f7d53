//! Message texts per template and language.
use contracts::case::CaseOpenedV1;

pub struct Rendered {
    pub subject: String,
    pub body: String,
}

pub fn case_opened(case: &CaseOpenedV1, department_name: &str, language: &str) -> Rendered {
    let subject_line = case.subject.as_deref().unwrap_or("");
    if language.starts_with("zh") {
        Rendered {
            subject: format!("[{}] 新案件：{}", case.reference, subject_line),
            body: format!(
                "{department_name}：\n\n新的客户反馈已登记并分配给贵部门。\n\n编号：{}\n类别：{} / {} / {}\n渠道：{}\n接收时间：{}\n\n{}\n",
                case.reference, case.class, case.category, case.severity, case.channel.as_str(), case.received_at, case.summary
            ),
        }
    } else {
        Rendered {
            subject: format!("[{}] New case: {}", case.reference, subject_line),
            body: format!(
                "{department_name},\n\nNew customer feedback was registered and routed to your department.\n\nReference: {}\nClass: {} / {} / {}\nChannel: {}\nReceived: {}\n\n{}\n",
                case.reference, case.class, case.category, case.severity, case.channel.as_str(), case.received_at, case.summary
            ),
        }
    }
}
