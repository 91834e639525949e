"""The v5 hashed-id codec: Hashids(salt, min_length=10), as PHP hashids 4.x computes it.

Hashing is slow in Python (tens of microseconds per call), so both directions are memoised;
the proxy converts thousands of ids per page and the same ids recur constantly.
"""

from __future__ import annotations

from functools import lru_cache

from hashids import Hashids

V5_MIN_LENGTH = 10
CACHE_SIZE = 200_000


class HashidCodec:
    """Encodes v5 primary keys to hashed ids and back, with a bounded cache."""

    def __init__(self, salt: str = "", cache_size: int = CACHE_SIZE) -> None:
        hashids = Hashids(salt=salt, min_length=V5_MIN_LENGTH)

        @lru_cache(maxsize=cache_size)
        def encode(key: int) -> str:
            if key < 0:
                raise ValueError(f"a v5 primary key cannot be negative: {key}")
            return hashids.encode(key)

        @lru_cache(maxsize=cache_size)
        def decode(hashed: str) -> int | None:
            numbers = hashids.decode(hashed)
            # v5 decodes with re-encode check: only canonical single-number hashes are ids.
            if len(numbers) != 1:
                return None
            return numbers[0]

        self.encode = encode
        self.decode = decode
