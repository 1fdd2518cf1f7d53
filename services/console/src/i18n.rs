//! The console's two languages: which one a user gets (explicit switch → cookie → Accept-Language →
//! the configured default), and every text of the screens in both, in one table.
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    ZhCn,
    En,
}

/// The cookie remembering an explicit choice.
pub const COOKIE: &str = "console_lang";

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

    /// The remembered choice (cookie), else the best match of `Accept-Language`, else `default`.
    pub fn negotiate(cookie: Option<&str>, accept_language: Option<&str>, default: Lang) -> Lang {
        cookie
            .and_then(Lang::parse)
            .or_else(|| accept_language.and_then(from_accept_language))
            .unwrap_or(default)
    }

    /// Every text in this language, for the templates (`t.key`).
    pub fn texts(self) -> BTreeMap<&'static str, &'static str> {
        TEXTS.iter().map(|(k, zh, en)| (*k, self.pick(zh, en))).collect()
    }

    /// One text; an unknown key falls back to the key itself, an empty translation to English.
    pub fn text(self, key: &str) -> String {
        TEXTS
            .iter()
            .chain(LABELS)
            .find(|(k, _, _)| *k == key)
            .map(|(_, zh, en)| self.pick(zh, en).to_owned())
            .unwrap_or_else(|| key.to_owned())
    }

    fn pick(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::ZhCn if !zh.is_empty() => zh,
            _ => en,
        }
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

/// (key, 简体中文, English)
const TEXTS: &[(&str, &str, &str)] = &[
    ("app_title", "客户反馈工作台", "Feedback console"),
    ("skip", "跳到正文", "Skip to content"),
    ("language", "语言", "Language"),
    ("nav", "主导航", "Main navigation"),
    ("nav_work", "我的工作", "My work"),
    ("nav_intake", "电话登记", "Phone intake"),
    ("nav_revisits", "回访", "Revisits"),
    ("nav_dashboard", "看板", "Dashboard"),
    ("nav_reports", "报表", "Reports"),
    ("nav_admin", "管理", "Administration"),
    ("signed_in_as", "当前用户", "Signed in as"),
    ("sign_out", "退出", "Sign out"),
    // Sign-in.
    ("login_title", "登录", "Sign in"),
    ("login_intro", "请使用您的员工账号登录。", "Sign in with your staff account."),
    ("user", "用户名", "User name"),
    ("password", "密码", "Password"),
    ("login_button", "登录", "Sign in"),
    ("login_failed", "用户名或密码不正确。", "The user name or password is not correct."),
    ("signed_out", "您已退出。", "You have signed out."),
    ("session_expired", "登录已过期，请重新登录。", "Your session has ended; please sign in again."),
    // My work.
    ("work_title", "我的工作", "My work"),
    ("work_intro", "分配给我或我部门的案件，按最近的截止时间排序。", "Cases assigned to me or my department, nearest deadline first."),
    ("scope", "范围", "Show"),
    ("scope_department", "我部门的案件", "My department's cases"),
    ("scope_mine", "分配给我的案件", "Assigned to me"),
    ("search", "搜索", "Search"),
    ("search_hint", "登记号、主题或内容中的文字", "Words in the reference, subject or content"),
    ("filter", "筛选", "Filter"),
    ("any", "全部", "Any"),
    ("only_overdue", "仅超期", "Overdue only"),
    ("only_on_time", "仅未超期", "On time only"),
    ("overdue", "已超期", "Overdue"),
    ("no_cases", "没有符合条件的案件。", "No cases match."),
    ("next_deadline", "最近截止", "Next deadline"),
    ("more", "下一页", "Next page"),
    ("previous_page", "上一页", "Previous page"),
    ("keys_hint", "键盘：/ 搜索，j / k 上下移动，回车打开；Alt+1…6 切换页面。", "Keys: / search, j / k move down / up, Enter opens; Alt+1…6 switch screens."),
    ("reference", "登记号", "Reference"),
    ("subject", "主题", "Subject"),
    ("status", "状态", "Status"),
    ("department", "部门", "Department"),
    ("assignee", "负责人", "Assignee"),
    ("site", "站点", "Site"),
    ("all_sites", "全部站点", "All sites"),
    ("severity", "严重程度", "Severity"),
    ("class", "类别", "Class"),
    ("category", "分类", "Category"),
    ("channel", "渠道", "Channel"),
    ("received", "收到时间", "Received"),
    ("none", "无", "None"),
    // Phone intake.
    ("intake_title", "电话登记", "Phone intake"),
    ("intake_intro", "通话中填写，提交后通过登记服务以“电话”渠道登记。", "Fill this in during the call; it is registered through intake with the channel “phone”."),
    ("customer", "顾客", "Customer"),
    ("lookup", "查找", "Look up"),
    ("lookup_hint", "按电话号码查找顾客以前的反馈。", "Find the customer's earlier feedback by phone number."),
    ("lookup_found", "找到此号码以前的反馈：", "Earlier feedback from this number:"),
    ("lookup_none", "没有找到此号码以前的反馈。", "No earlier feedback from this number."),
    ("name", "姓名", "Name"),
    ("phone", "电话", "Phone"),
    ("email", "电子邮箱", "Email"),
    ("customer_language", "顾客语言", "Customer's language"),
    ("received_at", "来电时间", "Time of the call"),
    ("received_at_hint", "留空表示现在。", "Leave empty for now."),
    ("product", "产品", "Product"),
    ("product_code", "产品编码", "Product code"),
    ("batch", "批号", "Batch number"),
    ("production_date", "生产日期", "Production date"),
    ("order", "订单", "Order"),
    ("order_number", "订单号", "Order number"),
    ("quantity_ordered", "订购数量", "Quantity ordered"),
    ("quantity_shipped", "发货数量", "Quantity shipped"),
    ("claim", "退货或索赔", "Return or claim"),
    ("claim_amount", "索赔金额（元）", "Claim amount (CNY)"),
    ("return_quantity", "退货数量", "Quantity returned"),
    ("claim_reason", "原因", "Reason"),
    ("content", "内容", "What the customer said"),
    ("register", "登记", "Register"),
    ("registered", "已登记", "Registered"),
    ("registered_text", "反馈已登记，登记号：", "The feedback is registered with the reference"),
    ("registered_next", "分诊完成后，案件会出现在负责部门的工作列表中。", "Once triaged, the case appears in the owning department's work list."),
    ("open_case", "打开案件", "Open the case"),
    ("new_call", "登记下一个来电", "Register another call"),
    ("required", "必填", "required"),
    ("fix_fields", "请检查标出的内容。", "Please check the marked fields."),
    // Case.
    ("case_title", "案件", "Case"),
    ("summary", "概要", "Summary"),
    ("timeline", "时间线", "Timeline"),
    ("deadlines", "截止时间", "Deadlines"),
    ("deadlines_none", "计时服务暂无此案件的截止时间。", "The scheduler has no deadlines for this case yet."),
    ("due", "截止", "Due"),
    ("state", "状态", "State"),
    ("explanation", "说明", "Explanation"),
    ("duplicates", "重复报告", "Reports of this problem"),
    ("actions", "操作", "Actions"),
    ("no_actions", "您目前不能对此案件执行任何操作。", "There is nothing you may do on this case now."),
    ("done_action", "已完成：", "Done:"),
    ("history_actor", "操作人", "By"),
    ("email_sent", "邮件", "Email"),
    ("deadline_event", "截止事件", "Deadline"),
    ("text", "内容", "Text"),
    ("reason", "原因", "Reason"),
    ("outcome", "结果", "Outcome"),
    ("valid", "是否有效", "Valid?"),
    ("valid_yes", "有效（我方责任）", "Valid (our fault)"),
    ("valid_no", "无效（误解）", "Not valid (a misunderstanding)"),
    ("clock", "计时", "Clock"),
    ("new_due", "新的截止时间", "New due time"),
    ("into_case", "合并到（登记号）", "Merge into (reference)"),
    ("claim_title", "索赔审批", "Claim approval"),
    ("claim_amount_short", "金额", "Amount"),
    ("claim_required", "需要审批", "Approvals needed"),
    ("claim_approvals", "已审批", "Approved by"),
    ("claim_rejected", "已拒绝", "Rejected"),
    ("approve", "批准", "Approve"),
    ("reject_claim", "拒绝索赔", "Reject the claim"),
    ("reason_past_shelf_life", "超过保质期", "Past its shelf life"),
    ("reason_not_our_product", "非本公司产品", "Not our product"),
    ("reason_met_contract", "产品符合合同", "The product met the contract"),
    ("notifications_unavailable", "通知服务暂不可用，邮件记录未显示。", "The notification service is not available; emails are not shown."),
    ("deadlines_unavailable", "计时服务暂不可用，截止时间未显示。", "The scheduler is not available; deadlines are not shown."),
    // Revisits.
    ("revisits_title", "回访队列", "Revisit queue"),
    ("revisits_intro", "现在可以拨打的回访（在呼叫时段内）。", "Revisits due now, inside the call window."),
    ("revisits_unavailable", "回访功能暂不可用。", "Revisits are not available yet."),
    ("revisits_none", "现在没有需要拨打的回访。", "No revisits to call now."),
    ("include_outside_window", "包括呼叫时段外的", "Include those outside the call window"),
    ("attempt", "记录拨打", "Record an attempt"),
    ("attempt_kind", "结果", "Result"),
    ("attempt_no_answer", "无人接听", "No answer"),
    ("attempt_busy", "占线", "Busy"),
    ("attempt_wrong_number", "号码错误", "Wrong number"),
    ("attempt_call_back", "约定回电", "Call back later"),
    ("attempt_declined", "顾客拒绝回访", "Customer declined"),
    ("call_back_at", "回电时间", "Call back at"),
    ("note", "备注", "Note"),
    ("questionnaire", "问卷", "Questionnaire"),
    ("method", "方式", "Method"),
    ("method_phone", "电话", "Phone"),
    ("method_sms", "短信", "SMS"),
    ("method_online", "在线", "Online"),
    ("method_email", "邮件", "Email"),
    ("method_on_site", "现场", "On site"),
    ("signature", "顾客签名", "Customer's signature"),
    ("comments", "意见", "Comments"),
    ("record_outcome", "记录回访结果", "Record the outcome"),
    ("yes", "是", "Yes"),
    ("no", "否", "No"),
    ("due_at", "应回访时间", "Due"),
    ("attempts", "已拨打次数", "Attempts"),
    ("outcome_saved", "回访结果已记录。", "The revisit outcome is recorded."),
    ("outcome_reopened", "顾客不满意：案件已重新打开。", "The customer is dissatisfied: the case was reopened."),
    ("revisit_schedule", "安排回访", "Schedule a revisit"),
    ("revisit_schedule_hint", "回访任务将立即进入回访队列。", "The revisit goes into the revisit queue at once."),
    ("close_loop", "结束回访（不再跟进）", "Close the loop (no more follow-ups)"),
    ("loop_closed", "回访已结束。", "The revisit loop is closed."),
    ("attempt_saved", "拨打已记录。", "The attempt is recorded."),
    // Dashboard.
    ("dashboard_title", "看板", "Dashboard"),
    ("today", "今天", "Today"),
    ("this_month", "本月", "This month"),
    ("intake_by_channel", "按渠道的登记数", "Intake by channel"),
    ("intake_by_site_today", "今天各站点的登记数", "Intake today by site"),
    ("intake_by_channel_today", "今天按渠道的登记数", "Intake today by channel"),
    ("satisfaction", "满意率", "Satisfied"),
    ("on_time_by_clock", "按计时的按时完成率", "share met on time, per clock"),
    ("open_clocks", "进行中", "Running"),
    ("target", "目标", "target"),
    ("average_score", "平均分", "Average score"),
    ("revisits_done", "已完成回访", "Revisits done"),
    ("open_by_department", "各部门未结案件", "Open cases by department"),
    ("overdue_by_department", "各部门超期案件", "Overdue cases by department"),
    ("on_time_rate", "按时率", "On-time rate"),
    ("on_time_rate_text", "已解决或已结案件中从未超期的比例（统计范围内）", "Share of resolved or closed cases that were never overdue (among the counted cases)"),
    ("revisit_rate", "回访率与满意度", "Revisit rate and satisfaction"),
    ("not_available", "暂无数据来源。", "No data source yet."),
    ("no_data", "暂无数据。", "No data yet."),
    ("total", "合计", "Total"),
    ("counted_of", "统计范围：最近的案件", "Counted over the most recent cases"),
    ("show", "显示", "Show"),
    // Reports.
    ("reports_title", "报表", "Reports"),
    ("kind", "报表类型", "Report"),
    ("kind_monthly", "月报", "Monthly"),
    ("kind_quarterly", "季报", "Quarterly"),
    ("kind_half-yearly", "半年报", "Half-yearly"),
    ("kind_annual", "年报", "Annual"),
    ("period", "期间", "Period"),
    ("period_hint", "例如 2026-11、2026-Q4、2026-H2、2026；留空为本期", "e.g. 2026-11, 2026-Q4, 2026-H2, 2026; empty for the current one"),
    ("previous_period", "上期", "Previous period"),
    ("trend", "月度趋势", "Monthly trend"),
    ("year_earlier", "去年同期", "A year earlier"),
    ("change", "变化", "Change"),
    ("download_csv", "下载 CSV", "Download CSV"),
    ("print", "打印版", "Printable version"),
    ("print_hint", "请使用浏览器的“打印”。", "Use your browser's Print."),
    ("dim_channel", "按渠道", "By channel"),
    ("dim_class", "按类别", "By class"),
    ("dim_category", "按分类", "By category"),
    ("dim_severity", "按严重程度", "By severity"),
    ("dim_department", "按部门", "By department"),
    // Administration.
    ("admin_title", "管理", "Administration"),
    ("staff_new", "新建员工账号", "New staff account"),
    ("staff_id", "用户名", "User name"),
    ("staff_name", "姓名", "Full name"),
    ("roles", "角色", "Roles"),
    ("sites_hint", "不选表示全部站点", "None selected means all sites"),
    ("create", "创建", "Create"),
    ("staff_created", "员工账号已创建：", "Staff account created:"),
    // Administration: the staff directory and editing an account.
    ("admin_refused", "管理页面仅限管理员使用（审计员只读）。", "The administration pages are for administrators (auditors may read them)."),
    ("staff_title", "员工账号", "Staff accounts"),
    ("staff_read_only", "您只能查看，不能修改。", "You can read but not change these."),
    ("role", "角色", "Role"),
    ("staff_status", "状态", "Status"),
    ("staff_active", "启用", "Active"),
    ("staff_inactive", "已停用", "Deactivated"),
    ("staff_search_hint", "用户名或姓名", "User name or full name"),
    ("staff_none", "没有符合条件的员工账号。", "No staff account matches."),
    ("staff_edit", "员工账号", "Staff account"),
    ("staff_since", "创建于", "Created"),
    ("staff_saved", "已保存。该员工需重新登录后新的设置才生效。", "Saved. The user signs in again for the new settings to take effect."),
    ("staff_edit_hint", "保存后该员工会被登出，重新登录后按新的角色、部门和站点工作。", "Saving signs the user out; they sign in again and work with the new roles, department and sites."),
    ("staff_new_password", "新密码（可选）", "New password (optional)"),
    ("staff_password_hint", "留空则不修改；至少 10 个字符。", "Leave blank to keep it; at least 10 characters."),
    ("staff_active_hint", "停用的账号不能登录，已登录的会话失效。", "A deactivated account cannot sign in; its sessions stop working."),
    ("save", "保存", "Save"),
    ("staff_changes", "变更记录", "Changes"),
    ("staff_when", "时间", "When"),
    ("staff_by", "操作人", "By"),
    ("staff_what", "内容", "What"),
    ("staff_no_changes", "暂无变更记录。", "No changes recorded."),
    ("staff_action_created", "创建", "Created"),
    ("staff_action_updated", "修改", "Changed"),
    ("staff_field_name", "姓名", "Name"),
    ("staff_field_roles", "角色", "Roles"),
    ("staff_field_department", "部门", "Department"),
    ("staff_field_sites", "站点", "Sites"),
    ("staff_field_active", "状态", "Status"),
    ("staff_field_password", "密码", "Password"),
    ("staff_password_reset", "已重置", "reset"),
    ("err_roles_required", "请至少选择一个角色。", "Choose at least one role."),
    ("err_password_short", "密码至少需要 10 个字符。", "The password needs at least 10 characters."),
    ("err_last_admin", "这是最后一个启用的管理员账号，不能停用或取消管理员角色。请先指定另一位管理员。", "This is the last active administrator: it cannot be deactivated or lose the administrator role. Make another user an administrator first."),
    ("err_deactivate_self", "不能停用自己的账号，请由另一位管理员操作。", "You cannot deactivate your own account; ask another administrator."),
    ("config_title", "业务规则在哪里配置", "Where the business rules are configured"),
    ("config_intro", "以下规则是配置，修改后重启对应服务生效。", "These rules are configuration; change them and restart the service named."),
    ("cfg_what", "内容", "What"),
    ("cfg_where", "配置位置", "Where"),
    ("cfg_departments", "部门与路由规则（分类 → 部门，按站点覆盖）", "Departments and routing rules (category → department, per-site overrides)"),
    ("cfg_classification", "分类规则（关键词 → 类别、分类、严重程度）", "Classification rules (keywords → class, category, severity)"),
    ("cfg_claims", "索赔审批层级与拒绝原因", "Claim approval tiers and rejection reasons"),
    ("cfg_sla", "时限策略（SLA 计时）与升级链", "SLA policies (clocks) and escalation ladders"),
    ("cfg_calendars", "各站点工作日历（节假日、调休）", "Working calendars per site (holidays, make-up days)"),
    ("cfg_notifications", "收件人、邮箱与邮件模板", "Recipients, mailboxes and email templates"),
    ("rule_keywords", "关键词", "Keywords"),
    ("span_clock_hours", "小时", "clock hours"),
    ("span_working_hours", "工作小时", "working hours"),
    ("span_working_minutes", "工作分钟", "working minutes"),
    ("span_working_days", "个工作日", "working days"),
    ("clock_applies", "适用于", "Applies to"),
    ("clock_length", "时限", "Length"),
    ("clock_events", "开始 → 停止", "Starts → stops"),
    ("clock_pause", "暂停于", "Paused while"),
    ("escalation", "升级", "Escalation"),
    ("calendar_hours", "工作时间", "Working hours"),
    ("calendar_base", "基础日历", "Base calendar"),
    ("calendar_own_days", "自有节假日 / 调休日", "Own holidays / make-up days"),
    ("time_zone", "时区", "Time zone"),
    ("every_case", "全部案件", "every case"),
    ("rules_unavailable", "分诊服务暂时无法提供规则，下表列出配置位置。", "Triage cannot show its rules right now; the table below says where they are configured."),
    ("cfg_privacy", "可查看完整顾客信息的角色", "Roles that see customers' personal data in clear"),
    ("role_agent", "坐席", "Agent"),
    ("role_handler", "处理人", "Handler"),
    ("role_department_head", "部门负责人", "Department head"),
    ("role_quality_engineer", "质量工程师", "Quality engineer"),
    ("role_marketing_manager", "营销经理", "Marketing manager"),
    ("role_general_manager", "总经理", "General manager"),
    ("role_management_representative", "管理者代表", "Management representative"),
    ("role_administrator", "管理员", "Administrator"),
    ("role_auditor", "审计员", "Auditor"),
    // Errors.
    ("error_title", "无法完成", "This could not be done"),
    ("err_csrf", "表单已过期或来源不明，未做任何更改。请重新打开页面后再提交。", "The form has expired or did not come from this console; nothing was changed. Please open the page again and resubmit."),
    ("err_forbidden", "您没有执行此操作的权限。", "You are not allowed to do this."),
    ("err_not_found", "没有找到。", "This was not found."),
    ("err_conflict", "当前状态下不能这样做，未做任何更改。", "This cannot be done in the current state; nothing was changed."),
    ("err_invalid", "输入的内容有误。", "Some of the data is not acceptable."),
    ("err_unavailable", "服务暂时不可用，未做任何更改。请稍后再试。", "A service is not available right now; nothing was changed. Please try again shortly."),
    ("err_internal", "系统出现问题，未做任何更改。请稍后再试。", "Something went wrong on our side; nothing was changed. Please try again."),
    ("err_bad_form", "无法读取提交的表单。", "The form could not be read."),
    ("err_required", "请填写此项。", "Please fill this in."),
    ("err_number", "请输入数字，例如 1500.00。", "Please enter a number, for example 1500.00."),
    ("err_integer", "请输入整数。", "Please enter a whole number."),
    ("err_date", "请输入有效的日期时间。", "Please enter a valid date and time."),
    ("details", "详情", "Details"),
];

/// Value labels used by the templates as `t["status_" ~ value]`.
const LABELS: &[(&str, &str, &str)] = &[
    ("status_new", "新建", "New"),
    ("status_triaged", "已分诊", "Triaged"),
    ("status_assigned", "已分派", "Assigned"),
    ("status_in_progress", "处理中", "In progress"),
    ("status_waiting_for_customer", "等待顾客", "Waiting for customer"),
    ("status_replied", "已答复", "Replied"),
    ("status_resolved", "已解决", "Resolved"),
    ("status_closed", "已结案", "Closed"),
    ("status_rejected", "已驳回", "Rejected"),
    ("status_reopened", "已重开", "Reopened"),
    ("action_acknowledge", "确认受理", "Acknowledge"),
    ("action_assign", "分派", "Assign"),
    ("action_reassign", "改派", "Reassign"),
    ("action_reclassify", "重新分类", "Reclassify"),
    ("action_note", "添加备注", "Add a note"),
    ("action_record_containment", "记录应急措施", "Record containment"),
    ("action_reply", "答复顾客", "Reply to the customer"),
    ("action_wait_for_customer", "等待顾客", "Wait for the customer"),
    ("action_customer_responded", "顾客已回复", "Customer responded"),
    ("action_set_validity", "判定有效性", "Set validity"),
    ("action_propose_plan", "提出处理方案", "Propose a plan"),
    ("action_extend_deadline", "延长期限", "Extend a deadline"),
    ("action_resolve", "解决", "Resolve"),
    ("action_close", "结案", "Close"),
    ("action_reject", "驳回", "Reject"),
    ("action_reopen", "重新打开", "Reopen"),
    ("action_merge", "合并为重复", "Merge as duplicate"),
    ("action_opened", "开立", "Opened"),
    ("action_claim_approved", "批准索赔", "Claim approved"),
    ("action_claim_rejected", "拒绝索赔", "Claim rejected"),
    ("action_revisit_scheduled", "已安排回访", "Revisit scheduled"),
    ("action_revisit_completed", "回访完成", "Revisit completed"),
    ("class_general", "一般信息", "General information"),
    ("class_important", "重要信息", "Important information"),
    ("class_complaint", "投诉", "Complaint"),
    ("category_product_quality", "产品质量", "Product quality"),
    ("category_logistics", "物流运输", "Logistics"),
    ("category_commercial", "商务条款", "Commercial terms"),
    ("category_staff_service", "员工服务", "Staff service"),
    ("category_suggestion", "建议", "Suggestion"),
    ("category_adverse_event", "不良事件", "Adverse event"),
    ("category_consultation", "咨询", "Consultation"),
    ("severity_general", "一般", "General"),
    ("severity_important", "重要", "Important"),
    ("severity_major", "重大", "Major"),
    ("channel_web", "网页", "Web"),
    ("channel_email", "邮件", "Email"),
    ("channel_phone", "电话", "Phone"),
    ("channel_survey", "问卷", "Survey"),
    ("channel_social", "社交媒体", "Social media"),
    ("channel_letter", "信函", "Letter"),
    ("channel_visit", "拜访", "Visit"),
    ("channel_card", "反馈卡", "Feedback card"),
    ("channel_api", "接口", "API"),
    ("outcome_resolved", "已解决", "Resolved"),
    (
        "outcome_explained",
        "已解释（不合理的反馈）",
        "Explained (unreasonable feedback)",
    ),
    ("outcome_accepted", "索赔已接受", "Claim accepted"),
    ("clockstate_running", "计时中", "Running"),
    ("clockstate_warned", "已预警", "Warned"),
    ("clockstate_paused", "已暂停", "Paused"),
    ("clockstate_breached", "已超期", "Breached"),
    ("clockstate_met", "按时完成", "Met"),
    ("clockstate_breached_stopped", "超期后完成", "Finished late"),
];

/// Every text and label in `lang`, for the templates.
pub fn all(lang: Lang) -> BTreeMap<&'static str, &'static str> {
    let mut map = lang.texts();
    map.extend(LABELS.iter().map(|(k, zh, en)| (*k, lang.pick(zh, en))));
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_beats_header_beats_default() {
        let n = Lang::negotiate;
        assert_eq!(n(Some("en"), Some("zh-CN"), Lang::ZhCn), Lang::En);
        assert_eq!(n(None, Some("en-US,en;q=0.9"), Lang::ZhCn), Lang::En);
        assert_eq!(n(Some("fr"), Some("zh-TW"), Lang::En), Lang::ZhCn);
        assert_eq!(n(None, None, Lang::ZhCn), Lang::ZhCn);
        assert_eq!(n(Some("garbage"), Some("de"), Lang::En), Lang::En);
        assert_eq!(from_accept_language("fr-FR, en;q=0.5, zh-CN;q=0.8"), Some(Lang::ZhCn));
        assert_eq!(from_accept_language("en;q=0, de"), None);
    }

    #[test]
    fn unknown_keys_fall_back_to_the_key_and_empty_translations_to_english() {
        assert_eq!(Lang::ZhCn.text("no_such_key"), "no_such_key");
        assert_eq!(Lang::ZhCn.pick("", "English"), "English");
        assert_eq!(Lang::ZhCn.text("sign_out"), "退出");
        assert_eq!(Lang::En.text("sign_out"), "Sign out");
    }

    #[test]
    fn every_text_exists_in_both_languages_once() {
        let mut seen = std::collections::HashSet::new();
        for (key, zh, en) in TEXTS.iter().chain(LABELS) {
            assert!(!zh.is_empty() && !en.is_empty(), "{key}");
            assert!(seen.insert(*key), "{key} twice");
        }
        assert_eq!(all(Lang::En)["status_closed"], "Closed");
    }
}
