"""Deterministic numbers from a seed and a name, so that every value the fake serves can be
recomputed from scratch (by the server and the ground truth alike) without shared state."""

import hashlib
import uuid


def seeded_int(*parts: object) -> int:
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def seeded_fraction(*parts: object) -> float:
    """In [0, 1): compared with a share (0.2 = 20 %) to decide a seeded yes/no."""
    return seeded_int(*parts) / 2**64


def seeded_uuid(*parts: object) -> str:
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=16).digest()
    return str(uuid.UUID(bytes=digest, version=4))
