"""Where a page may send the user back to after signing in: a path on this site only."""


def safe_next(target: str | None) -> str | None:
    """A local path to return to after login, or None: never another site (open redirect)."""
    if (not target or not target.startswith("/") or target.startswith("//")
            or "\\" in target or any(ord(c) < 32 for c in target)):
        return None
    return target
