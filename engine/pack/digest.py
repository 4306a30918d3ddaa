"""A rule pack's content hash: every decision records it, the ledger re-checks it."""

from __future__ import annotations

import hashlib


def pack_digest(files: dict[str, bytes]) -> str:
    """SHA-256 over each file's path and its own SHA-256, in path order.

    Loading (``load_pack``) and the ledger's replay both call this one function, so the
    hash a decision records and the hash a replay checks cannot drift apart.
    """
    digest = hashlib.sha256()
    for rel in sorted(files):
        digest.update(rel.encode() + b"\0" + hashlib.sha256(files[rel]).digest())
    return digest.hexdigest()
