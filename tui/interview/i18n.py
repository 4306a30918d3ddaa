"""Interface strings in English and Chinese; rule texts come bilingual from the pack.

Kept apart from the widgets so one key can switch every label at once, and so the
default follows the user's locale (many users read Chinese first).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from chipclear.pack.loader import Text

LANGS = ("en", "zh")

_S: dict[str, tuple[str, str]] = {
    "title": ("chipclear interview", "chipclear 采购合规问答"),
    "saving_to": ("autosaved to {path}", "自动保存至 {path}"),
    "question_n": ("Q{n}", "第 {n} 题"),
    "left_n": ("{decisive} decisive left", "剩余关键问题 {decisive} 个"),
    "left_all": ("{decisive} decisive left, {total} in all", "剩余关键问题 {decisive}/{total} 个"),
    "why_rules": ("{n} rules wait for this answer.", "有 {n} 条规则等待此回答。"),
    "rules_n": ("Rules that need it ({n})", "需要此信息的规则（{n} 条）"),
    "resumed": ("Resumed: answers kept: {n}", "已恢复：保留回答 {n} 个"),
    "going_back": ("Back to an earlier answer (Esc: return)", "返回修改先前的回答（Esc 返回）"),
    "save_failed": ("Not saved: {error}", "未保存：{error}"),
    "already_saved": ("All answers are already in {path}", "所有回答已保存在 {path}"),
    "nothing_to_save": ("Nothing to save yet: no answer given", "尚无回答，无需保存"),
    "too_small": ("The window is {w}×{h}; chipclear needs at least 80×24. Enlarge it.",
                  "窗口为 {w}×{h}；chipclear 至少需要 80×24，请放大窗口。"),
    "no_back": ("No earlier answer in this session", "本次会话中没有更早的回答"),
    "keys": ("Keys", "按键"),
    "review_short": ("Review", "回顾"),
    "esc_help": ("Back (from a screen, or from changing an earlier answer)",
                 "返回（离开当前界面或放弃修改先前回答）"),
    "palette": ("Every command, searchable", "可搜索的全部命令"),
    "quit_help": ("Quit (answers are already saved)", "退出（回答已保存）"),
    "verdict_go": ("the purchase can go ahead under the rules in force.",
                   "按现行规则可以采购。"),
    "verdict_go_with_conditions": ("the purchase can go ahead once the conditions below are met.",
                                   "满足以下条件后可以采购。"),
    "verdict_no_go": ("a rule stops this purchase; see the findings (F4) for which and why.",
                      "有规则禁止此次采购；原因见“发现”（F4）。"),
    "verdict_needs_information": ("the rules cannot decide yet; the facts below are missing.",
                                  "规则尚无法判定；缺少以下信息。"),
    "as_of_short": ("rules as of", "规则日期"),
    "must_act": ("To be done by the {who}", "需由{who}完成"),
    "still_open": ("Optional questions and unknowns still open",
                   "尚未回答的可选问题与未知事项"),
    "end_memo": ("Export memo", "导出备忘录"),
    "end_json": ("Export JSON", "导出 JSON"),
    "end_ledger": ("Record to ledger", "记入台账"),
    "end_continue": ("Continue ({n} optional)", "继续（{n} 个可选问题）"),
    "recorded": ("Recorded in {path}", "已记入 {path}"),
    "no_ledger": ("No ledger: start with --ledger FILE to record decisions",
                  "未指定台账：启动时使用 --ledger 文件"),
    "done": ("Nothing more to ask: the result is on the right.",
             "无需再提问：结论见右侧。"),
    "done_open": ("Nothing more can be asked here. Still unknown: {facts}. "
                  "Review (F3) to answer them.",
                  "此处无法再提问。仍未知：{facts}。可在回顾（F3）中补充。"),
    "why": ("Why: ", "原因："),
    "sources": ("Sources: ", "依据："),
    "dont_know": ("Don't know", "不知道"),
    "yes": ("Yes", "是"),
    "no": ("No", "否"),
    "enter_hint": ("Enter to answer · F7 don't know", "回车确认 · F7 不知道"),
    "text_hint": ("Enter to answer (empty = none) · F7 don't know",
                  "回车确认（留空表示没有）· F7 不知道"),
    "verdict": ("Verdict", "结论"),
    "us": ("US", "美国"),
    "cn": ("China", "中国"),
    "share": ("Revenue share", "收入分成"),
    "findings": ("Findings (Enter: explain)", "发现（回车查看说明）"),
    "no_findings": ("No findings yet.", "暂无发现。"),
    "block": ("Block", "阻止"),
    "condition": ("Condition", "条件"),
    "info": ("Info", "提示"),
    "conditions": ("Conditions to complete", "需完成的条件"),
    "alternatives": ("Domestic alternatives", "国产替代对比"),
    "meets": ("meets all", "全部满足"),
    "unknown_facts": ("Still unknown", "仍未知"),
    "chip_search": ("Chip (type to search the catalog)", "芯片（输入以搜索目录）"),
    "quantity": ("Quantity", "数量"),
    "unit_price": ("Unit price (USD)", "单价（美元）"),
    "add_line": ("Add line", "添加"),
    "custom_chip": ("Chip not listed…", "目录外芯片…"),
    "c_title": ("A chip not in the catalog: its datasheet figures",
                "目录外芯片：填写规格参数"),
    "c_name": ("Name (required)", "名称（必填）"),
    "c_vendor": ("Vendor", "厂商"),
    "c_country": ("Vendor country (e.g. CN, US)", "厂商所在国家（如 CN、US）"),
    "c_family": ("Architecture family (e.g. Hopper)", "架构系列（如 Hopper）"),
    "c_datacenter": ("Designed or marketed for data centres? (yes/no)",
                     "是否为数据中心设计或销售？（是/否）"),
    "c_dense": ("Dense TFLOPS per precision, e.g. fp8=1979, bf16=989",
                "各精度稠密算力，如 fp8=1979, bf16=989"),
    "c_die": ("Logic die area (mm²)", "逻辑芯片面积（mm²）"),
    "c_memory": ("Memory (GB)", "显存（GB）"),
    "c_bandwidth": ("Memory bandwidth (GB/s)", "显存带宽（GB/s）"),
    "c_class": ("Classification", "管制分类"),
    "c_cancel": ("Cancel", "取消"),
    "done_lines": ("Done", "完成"),
    "lines": ("Order lines", "采购项"),
    "items_hint": ("Enter on price adds the line; Enter on an empty chip field finishes.",
                   "在单价处回车添加一行；芯片栏为空时回车完成。"),
    "no_match": ("No chip matches '{q}'.", "没有匹配“{q}”的芯片。"),
    "pick_chip": ("Pick a chip from the list first.", "请先从列表中选择芯片。"),
    "review": ("Review answers (Enter: change · Del: forget · Esc: back)",
               "回顾回答（回车修改 · Del 清除 · Esc 返回）"),
    "not_needed": ("not needed: no answer here changes the verdict or a status",
                   "无需：此项任何回答都不改变结论或状态"),
    "used_by_rule": ("a rule that applies tests it", "适用的规则会检查此项"),
    "without_it": ("holds up the outcome; without it: {outcome}",
                   "支撑当前结论；若无此项：{outcome}"),
    "unknown_mark": ("don't know", "不知道"),
    "edit_lines": ("Order lines (change)", "采购项（修改）"),
    "explain": ("Explain", "说明"),
    "rule": ("Rule", "规则"),
    "valid": ("In force", "有效期"),
    "because": ("Facts used", "所用事实"),
    "chain": ("Follows from", "推导链"),
    "condition_data": ("Condition", "条件"),
    "summary": ("Summary", "摘要"),
    "exported": ("Exported {path}", "已导出 {path}"),
    "saved": ("Saved {path}", "已保存 {path}"),
    "evaluating": ("evaluating…", "正在评估…"),
    "regulator": ("Regulator's question", "监管问题"),
    "as_of": ("At which date should the rules be applied? (YYYY-MM-DD; Enter = today)",
              "按哪一天的规则判定？（YYYY-MM-DD；回车 = 今天）"),
    "chip_q": ("Which chip is on this order line?", "该采购项是哪款芯片？"),
    "item": ("line", "采购项"),
}

#: Footer and command-palette labels by binding id.
ACTIONS: dict[str, tuple[str, str]] = {
    "toggle_language": ("中文", "English"),
    "review": ("Review", "回顾"),
    "findings": ("Findings", "发现"),
    "export_markdown": ("Memo", "备忘录"),
    "export_json": ("JSON", "JSON"),
    "dont_know": ("Don't know", "不知道"),
    "save": ("Save", "保存"),
    "back": ("Back", "返回"),
    "forget_answer": ("Forget", "清除"),
    "previous": ("Back", "上一题"),
    "show_keys": ("Keys", "按键"),
    "return": ("Continue", "继续"),
    "record": ("Ledger", "台账"),
    "continue_optional": ("Continue", "继续"),
    "remove_line": ("Remove line", "删除此行"),
    "quit": ("Quit", "退出"),
}

ACTION_HELP: dict[str, tuple[str, str]] = {
    "toggle_language": ("Switch between English and Chinese", "切换中文与英文"),
    "review": ("Review and change every answer", "回顾并修改所有回答"),
    "findings": ("Move to the findings list to explain one", "跳到发现列表查看说明"),
    "export_markdown": ("Export the decision memo as Markdown (current language)",
                        "导出 Markdown 决策备忘录（当前语言）"),
    "export_json": ("Export the decision as JSON", "导出 JSON 格式决策"),
    "dont_know": ("Answer the current question with \"don't know\"", "当前问题回答“不知道”"),
    "save": ("Save the case file now", "立即保存案例文件"),
    "previous": ("Go back to the previous answer and change it", "返回上一个回答并修改"),
    "return": ("Leave an earlier answer unchanged and continue", "不修改先前回答，继续"),
    "record": ("Record the decision in the ledger", "将决策记入台账"),
    "continue_optional": ("Continue with the optional questions", "继续回答可选问题"),
    "show_keys": ("List every key", "列出所有按键"),
}

#: Readable labels for choice values (the stored value stays the enum value).
CHOICES: dict[str, tuple[str, str]] = {
    "internet_platform": ("Internet platform", "互联网平台"),
    "cloud_provider": ("Cloud provider", "云服务商"),
    "enterprise": ("Enterprise", "企业"),
    "startup": ("Startup", "初创企业"),
    "university": ("University", "高校"),
    "research_institute": ("Research institute", "科研院所"),
    "government": ("Government", "政府机关"),
    "government_cloud": ("Government cloud", "政务云"),
    "state_owned_enterprise": ("State-owned enterprise", "国有企业"),
    "server_assembler": ("Server assembler", "服务器整机厂"),
    "distributor": ("Distributor", "经销商"),
    "military": ("Military", "军方"),
    "training": ("Training", "训练"),
    "inference": ("Inference", "推理"),
    "research": ("Research", "科研"),
    "resale": ("Resale", "转售"),
    "other": ("Other", "其他"),
    "commercial": ("Commercial", "商业"),
    "supercomputer": ("Supercomputer", "超级计算机"),
    "granted": ("Granted", "已批准"),
    "pending": ("Pending", "审批中"),
    "denied": ("Denied", "已拒绝"),
    "none": ("Not applied for", "未申请"),
}

VERDICTS: dict[str, tuple[str, str, str]] = {
    "go": ("✓", "GO", "可以采购"),
    "go_with_conditions": ("!", "GO WITH CONDITIONS", "有条件采购"),
    "no_go": ("✗", "NO GO", "不能采购"),
    "needs_information": ("?", "NEEDS INFORMATION", "需要补充信息"),
}


def t(key: str, lang: str, **kw: object) -> str:
    """The interface string ``key`` in ``lang``, formatted with ``kw``."""
    en, zh = _S[key]
    return (zh if lang == "zh" else en).format(**kw)


def pick(pair: tuple[str, str] | Mapping[str, str], lang: str) -> str:
    if isinstance(pair, tuple):
        return pair[1] if lang == "zh" else pair[0]
    return pair.get(lang) or pair.get("en", "")


def text(value: Text | None, lang: str) -> str:
    """A bilingual pack text in ``lang``."""
    if value is None:
        return ""
    return value.zh if lang == "zh" else value.en


def choice(value: str, lang: str) -> str:
    label = CHOICES.get(value)
    return f"{pick(label, lang)} ({value})" if label else value


#: Who must act on a condition (the decision's ``owner`` values).
OWNERS: dict[str, tuple[str, str]] = {
    "buyer": ("buyer", "买方"),
    "exporter": ("exporter", "出口商"),
    "vendor": ("vendor", "供应商"),
    "regulator": ("regulator", "监管机构"),
}


def choice_word(value: str, lang: str) -> str:
    """An owner's name in ``lang`` (the value itself when unknown)."""
    label = OWNERS.get(value)
    return pick(label, lang) if label else value


def default_lang(env: Mapping[str, str] | None = None) -> str:
    """zh when the locale says Chinese (LC_ALL, then LANG), else en."""
    env = os.environ if env is None else env
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"
