"""A deterministic generator of realistic purchase cases, for benchmarks and audits."""

from __future__ import annotations

import random
from typing import Any

CHIPS = ["H200", "H20", "B200", "nvidia-h100-sxm", "amd-mi308", "amd-mi325x", "nvidia-b30a",
         "huawei-ascend-910c", "huawei-ascend-910b", "nvidia-rtx-pro-6000d", "nvidia-a100"]
KINDS = ["internet_platform", "cloud_provider", "enterprise", "startup", "university",
         "research_institute", "government_cloud", "state_owned_enterprise", "distributor"]
NAMES = ["Example Cloud Co., Ltd.", "Shenzhen Model Lab", "北京示例科技有限公司",
         "Beijing Zhipu Huazhang Technology Co., Ltd.", "Hangzhou Inference Ltd.", None]
DATES = ["2023-06-01", "2024-03-01", "2025-06-01", "2025-09-01", "2025-12-20", "2026-01-20",
         "2026-02-15", "2026-06-01"]


def _maybe(rng: random.Random, value: Any, p: float = 0.8) -> Any:
    return value if rng.random() < p else None


def case(i: int, rng: random.Random) -> dict[str, Any]:
    def flag() -> bool | None:
        return _maybe(rng, rng.random() < 0.8)

    items = [{"chip": rng.choice(CHIPS), "quantity": rng.choice([8, 64, 512, 4096]),
              "unit_price_usd": rng.choice([12000.0, 25000.0, 32000.0])}
             for _ in range(rng.choice([1, 1, 1, 2]))]
    raw: dict[str, Any] = {
        "id": f"gen-{i:06d}",
        "as_of": rng.choice(DATES),
        "buyer": {"name": rng.choice(NAMES), "country": rng.choice(["CN", "CN", "CN", "MO", "MY"]),
                  "headquarters": "CN", "kind": rng.choice(KINDS),
                  "state_owned": flag(), "state_funded_project": flag(),
                  "critical_infrastructure": flag(), "us_approved_customer": flag()},
        "order": {"ship_from": rng.choice(["US", "US", "TW", "CN"]), "items": items},
        "use": {"purpose": rng.choice(["training", "inference", "research"]),
                "end_use": rng.choice(["commercial", "commercial", "commercial", "military"]),
                "workload": {"min_memory_gb": rng.choice([None, 48, 80, 128]),
                             "needs_fp8": flag(), "needs_cuda_ecosystem": flag()},
                "data": {"personal_information": flag(), "important_data": flag()}},
        "deployment": {"air_gapped": flag(), "outbound_telemetry_blocked": flag(),
                       "remote_access_controls": flag()},
        "evidence": {
            "necessity_justification": rng.choice([None, "", "FP8 training at scale"]),
            "vendor_attestation": {k: flag() for k in (
                "no_backdoor", "no_remote_shutdown", "no_location_tracking", "firmware_hashes",
                "network_components_inventory")},
            "exporter_certifications": {k: flag() for k in (
                "us_supply_sufficient", "china_volume_within_cap", "third_party_testing_in_us",
                "kyc_and_remote_access_screening", "no_prohibited_end_use")},
            "cybersecurity_review_filed": flag(),
            "import_approval": rng.choice([None, "granted", "pending", "none"]),
        },
    }
    return _prune(raw)


def _prune(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def cases(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [case(i, rng) for i in range(n)]
