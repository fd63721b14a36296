"""The Finnish personal identity code (henkilötunnus), beyond what python-stdnum validates."""

from datetime import date

from stdnum.fi import hetu

#: Century by the separator; since 2023 several signs per century (stdnum validates them all).
CENTURIES = {"+": 1800, **dict.fromkeys("-YXWVU", 1900), **dict.fromkeys("ABCDEF", 2000)}


def birth_date_of(code: str | None) -> date | None:
    """The date of birth a valid code (temporary range included) carries, else None."""
    if not code or not hetu.is_valid(code, allow_temporary=True):
        return None
    compact = hetu.compact(code)
    return date(CENTURIES[compact[6]] + int(compact[4:6]), int(compact[2:4]), int(compact[0:2]))


def contradicts_birth_date(code: str | None, birth_date: date | str | None) -> bool:
    """True only when both are given and the code's date differs: it means the wrong child."""
    born = birth_date_of(code)
    if born is None or not birth_date:
        return False
    if isinstance(birth_date, str):
        try:
            birth_date = date.fromisoformat(birth_date)
        except ValueError:
            return False
    return born != birth_date
