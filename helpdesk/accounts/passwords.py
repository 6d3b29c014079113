"""Password hashing with Argon2id (argon2-cffi)."""
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def hash_password(password: str, params: tuple[int, int, int] = (3, 65536, 4)) -> str:
    return _hasher(*params).hash(password)


@lru_cache(maxsize=4)
def dummy_hash(params: tuple[int, int, int]) -> str:
    """A hash of nothing anyone knows, at the given cost: what a log-in for an unknown or
    inactive account is checked against, so that it costs as much as a real one."""
    return hash_password("no account has this password", tuple(params))


def verify_password(stored_hash: str, password: str) -> bool:
    if not stored_hash:
        return False
    try:
        return _hasher(3, 65536, 4).verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
