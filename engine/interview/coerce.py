"""Typed text to case values: numbers as people write them, yes/no, countries, TFLOPS.

Shared by the headless interview (answers) and the terminal UI (validation while
typing), so both accept and refuse exactly the same text.
"""

from __future__ import annotations

import re
from typing import Any

from chipclear.model.case import BIT_LENGTH

#: Country names people type instead of ISO codes (English and Chinese).
COUNTRIES = {
    "china": "CN", "中国": "CN", "prc": "CN", "macau": "MO", "macao": "MO", "澳门": "MO",
    "hong kong": "HK", "hongkong": "HK", "香港": "HK", "taiwan": "TW", "台湾": "TW",
    "united states": "US", "usa": "US", "美国": "US", "malaysia": "MY", "马来西亚": "MY",
    "singapore": "SG", "新加坡": "SG", "japan": "JP", "日本": "JP", "korea": "KR",
    "south korea": "KR", "韩国": "KR", "germany": "DE", "德国": "DE", "india": "IN",
    "vietnam": "VN", "越南": "VN", "united kingdom": "GB", "uk": "GB", "英国": "GB",
}
YES = {"y", "yes", "true", "1", "是", "有", "对"}
NO = {"n", "no", "false", "0", "否", "无", "没有", "不是"}
DONT_KNOW = {"?", "unknown", "dont know", "don't know", "n/a", "不知道", "未知", "不清楚"}


def number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError("expected a number")
    if isinstance(value, int | float):
        number: float = float(value)
    else:
        text = str(value).strip().replace(",", "").replace("_", "").replace(" ", "")
        text = text.removeprefix("$").removeprefix("US$")
        scale = 1.0
        if text[-1:].lower() == "k":
            scale, text = 1_000.0, text[:-1]
        elif text[-1:].lower() == "m":
            scale, text = 1_000_000.0, text[:-1]
        elif text.endswith("万"):
            scale, text = 10_000.0, text[:-1]
        try:
            number = float(text) * scale
        except ValueError:
            raise ValueError(f"'{value}' is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"'{value}' is not a number")
    return int(number) if number.is_integer() else number


def dense_tflops(value: Any) -> dict[str, float]:
    """``fp8=1979, bf16=989`` (or a mapping) -> {precision: dense TFLOPS}."""
    if isinstance(value, dict):
        pairs = list(value.items())
    else:
        pairs = []
        for chunk in re.split(r"[,;\s]+", str(value).strip()):
            if not chunk:
                continue
            key, sep, num = chunk.partition("=") if "=" in chunk else chunk.partition(":")
            if not sep:
                raise ValueError("give precision=TFLOPS pairs, e.g. fp8=1979, bf16=989")
            pairs.append((key, num))
    out: dict[str, float] = {}
    for key, num in pairs:
        k = str(key).strip().lower()
        if k not in BIT_LENGTH:
            raise ValueError(f"unknown precision '{key}' (use {', '.join(BIT_LENGTH)})")
        out[k] = float(number(num))
    if not out:
        raise ValueError("give precision=TFLOPS pairs, e.g. fp8=1979, bf16=989")
    return out
