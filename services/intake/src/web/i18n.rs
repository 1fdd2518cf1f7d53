//! The two languages of the public pages: which one a visitor gets, and every text in both.
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    ZhCn,
    En,
}

impl Lang {
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    /// `zh`, `zh-CN`, `zh-Hans`, `en-GB`, … → one of ours; anything else → `None`.
    pub fn parse(s: &str) -> Option<Lang> {
        let primary = s.trim().split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
        match primary.as_str() {
            "zh" => Some(Lang::ZhCn),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The visitor's language: an explicit choice (`?lang=`), else the remembered one (cookie),
    /// else the best match of `Accept-Language`, else the configured default.
    pub fn negotiate(query: Option<&str>, cookie: Option<&str>, accept_language: Option<&str>, default: Lang) -> Lang {
        query
            .and_then(Lang::parse)
            .or_else(|| cookie.and_then(Lang::parse))
            .or_else(|| accept_language.and_then(from_accept_language))
            .unwrap_or(default)
    }

    /// Every text of the pages in this language, for the templates.
    pub fn texts(self) -> BTreeMap<&'static str, &'static str> {
        TEXTS
            .iter()
            .map(|(k, zh, en)| (*k, if self == Lang::ZhCn { *zh } else { *en }))
            .collect()
    }

    pub fn text(self, key: &str) -> &'static str {
        TEXTS
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, zh, en)| if self == Lang::ZhCn { *zh } else { *en })
            .unwrap_or("")
    }
}

/// The highest-weighted language we speak; ties go to the order given.
fn from_accept_language(header: &str) -> Option<Lang> {
    let mut best: Option<(f32, Lang)> = None;
    for part in header.split(',') {
        let mut pieces = part.split(';');
        let tag = pieces.next().unwrap_or("").trim();
        let q = pieces
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|v| v.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if q <= 0.0 {
            continue;
        }
        if let Some(lang) = Lang::parse(tag) {
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
    }
    best.map(|(_, l)| l)
}

/// The feedback types offered on the form: the value stored as the `feedback_type` hint, and its
/// text key.
pub const FEEDBACK_TYPES: [&str; 7] = [
    "complaint",
    "suggestion",
    "consultation",
    "product_quality",
    "logistics",
    "service",
    "adverse_reaction",
];

/// (key, 简体中文, English)
const TEXTS: &[(&str, &str, &str)] = &[
    ("title", "意见反馈", "Customer feedback"),
    ("intro", "告诉我们您的意见、建议或问题。我们会在收到后尽快处理，并给您一个登记号以便查询进度。", "Tell us about a problem, a suggestion or a question. We register it at once and give you a reference number to follow it."),
    ("switch_label", "语言", "Language"),
    ("required", "必填", "required"),
    ("contact", "联系方式", "How we can reach you"),
    ("contact_hint", "请至少填写电话或电子邮箱之一，或选择匿名提交。", "Give a phone number or an email address, or send it anonymously."),
    ("name", "姓名", "Name"),
    ("phone", "电话", "Phone"),
    ("email", "电子邮箱", "Email"),
    ("anonymous", "匿名提交（我们将无法回访您）", "Send anonymously (we will not be able to contact you)"),
    ("about", "反馈内容", "Your feedback"),
    ("feedback_type", "反馈类型", "Type of feedback"),
    ("choose", "请选择", "Please choose"),
    ("type_complaint", "投诉", "Complaint"),
    ("type_suggestion", "建议", "Suggestion"),
    ("type_consultation", "咨询", "Question"),
    ("type_product_quality", "产品质量", "Product quality"),
    ("type_logistics", "物流配送", "Delivery / logistics"),
    ("type_service", "服务", "Service"),
    ("type_adverse_reaction", "不良反应", "Adverse reaction"),
    ("product", "产品信息（如与产品有关）", "Product (if it is about a product)"),
    ("product_code", "产品编码", "Product code"),
    ("batch", "批号", "Batch number"),
    ("order_number", "订单号", "Order number"),
    ("claim", "退货或索赔（如有）", "Return or claim (if any)"),
    ("claim_amount", "索赔金额（元）", "Claim amount (CNY)"),
    ("return_quantity", "退货数量", "Quantity to return"),
    ("description", "详细描述", "Description"),
    ("description_hint", "发生了什么？请尽量写明时间、地点和经过。", "What happened? When and where, as precisely as you can."),
    ("attachments", "附件（照片或文件）", "Attachments (photos or documents)"),
    ("attachments_hint", "可上传 JPEG、PNG、PDF 或纯文本文件，最多 {count} 个，每个不超过 {size}。", "JPEG, PNG, PDF or plain text; up to {count} files of at most {size} each."),
    ("attachments_again", "为安全起见，附件未保留，请重新选择。", "For your safety the files were not kept: please choose them again."),
    ("honeypot", "请勿填写此项", "Leave this field empty"),
    ("submit", "提交反馈", "Send feedback"),
    ("errors_intro", "请检查标出的内容后再提交。", "Please check the marked fields and send again."),
    ("done_title", "已收到您的反馈", "We have received your feedback"),
    ("done_reference", "您的登记号", "Your reference number"),
    ("done_text", "请保存登记号。我们会尽快处理，并按您留下的联系方式与您联系。", "Please keep this number. We will handle your feedback promptly and contact you the way you asked."),
    ("done_status", "查看处理进度", "Follow the status"),
    ("done_attachments", "已收到的附件", "Attachments received"),
    ("new_feedback", "提交新的反馈", "Send other feedback"),
    ("thanks_title", "谢谢", "Thank you"),
    ("thanks_text", "您的提交已收到。", "Your submission was received."),
    ("status_title", "反馈处理进度", "Status of your feedback"),
    ("status_reference", "登记号", "Reference"),
    ("status_status", "状态", "Status"),
    ("status_received", "收到时间", "Received"),
    ("status_channel", "渠道", "Channel"),
    ("status_registered", "已登记，等待处理", "Registered, waiting to be handled"),
    ("channel_web", "网页表单", "Web form"),
    ("channel_email", "电子邮件", "Email"),
    ("channel_phone", "电话", "Phone"),
    ("not_found_title", "未找到", "Not found"),
    ("not_found_text", "没有找到此登记号，或链接不完整。请使用提交后给出的完整链接。", "We found no feedback with this reference, or the link is incomplete. Please use the whole link you were given."),
    ("rejected_title", "无法接收此次提交", "We could not accept this submission"),
    ("back", "返回表单", "Back to the form"),
    ("too_many", "提交过于频繁，请在 {minutes} 分钟后再试。", "Too many submissions from your address. Please try again in {minutes} minutes."),
    ("too_large", "提交的内容过大（上限 {size}）。请减少或缩小附件后重试。", "The submission is too large (at most {size}). Please send fewer or smaller attachments."),
    ("bad_form", "无法读取提交的表单，请返回后重新提交。", "We could not read the form. Please go back and send it again."),
    ("internal", "系统暂时出现问题，您的反馈未被保存。请稍后再试。", "Something went wrong on our side; your feedback was not saved. Please try again later."),
    // Field errors.
    ("err_required", "请填写此项。", "Please fill this in."),
    ("err_phone", "请输入有效的电话号码。", "Please enter a valid phone number."),
    ("err_email", "请输入有效的电子邮箱地址。", "Please enter a valid email address."),
    ("err_contact", "请填写电话或电子邮箱，或选择匿名提交。", "Please give a phone number or an email address, or tick “Send anonymously”."),
    ("err_too_long", "内容过长（最多 {max} 个字符）。", "This is too long (at most {max} characters)."),
    ("err_control", "包含不允许的字符。", "This contains characters that are not allowed."),
    ("err_number", "请输入数字，例如 150.00。", "Please enter a number, for example 150.00."),
    ("err_integer", "请输入整数。", "Please enter a whole number."),
    ("err_negative", "不能为负数。", "This cannot be negative."),
    ("err_decimals", "最多保留两位小数。", "At most two decimals, please."),
    ("err_type", "请选择列表中的反馈类型。", "Please choose a type from the list."),
    ("err_site", "此表单的站点无效，请从官方链接重新打开。", "This form's site is not valid; please open the form again from our official link."),
    ("err_invalid", "此项内容无效。", "This value is not valid."),
    ("err_file_type", "文件“{name}”的类型不被接受。只接受 JPEG、PNG、PDF 或纯文本文件。", "The file “{name}” is not of an accepted type. Only JPEG, PNG, PDF or plain text files are accepted."),
    ("err_file_size", "文件“{name}”过大（每个文件不超过 {size}）。", "The file “{name}” is too large (at most {size} per file)."),
    ("err_file_count", "附件过多（最多 {count} 个）。", "Too many files (at most {count})."),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_choice_beats_cookie_beats_header() {
        let n = Lang::negotiate;
        assert_eq!(n(Some("en"), Some("zh-CN"), Some("zh-CN"), Lang::ZhCn), Lang::En);
        assert_eq!(n(None, Some("en"), Some("zh-CN"), Lang::ZhCn), Lang::En);
        assert_eq!(n(None, None, Some("en-US,en;q=0.9"), Lang::ZhCn), Lang::En);
        assert_eq!(n(Some("fr"), None, Some("zh-TW"), Lang::En), Lang::ZhCn);
        assert_eq!(n(None, None, None, Lang::ZhCn), Lang::ZhCn);
        assert_eq!(n(None, Some("garbage"), None, Lang::En), Lang::En);
    }

    #[test]
    fn accept_language_weights_are_honoured() {
        assert_eq!(from_accept_language("fr-FR, en;q=0.5, zh-CN;q=0.8"), Some(Lang::ZhCn));
        assert_eq!(from_accept_language("zh;q=0.3, en-GB;q=0.7"), Some(Lang::En));
        assert_eq!(from_accept_language("zh-Hans-CN,zh;q=0.9,en;q=0.8"), Some(Lang::ZhCn));
        assert_eq!(from_accept_language("en;q=0, de"), None);
        assert_eq!(from_accept_language("*"), None);
    }

    #[test]
    fn every_text_exists_in_both_languages() {
        for (key, zh, en) in TEXTS {
            assert!(!zh.is_empty() && !en.is_empty(), "{key}");
        }
        for t in FEEDBACK_TYPES {
            assert!(!Lang::En.text(&format!("type_{t}")).is_empty(), "{t}");
        }
    }
}
