"""The text inside a request's JSON, made what a person could have typed before any field reads
it, as `handover.security.hardening` does for form and query values.

JSON may escape a lone UTF-16 surrogate (``"\\ud800"``): Python reads it into a string that no
encoder can write, so sealing or storing it would fail far from the request. Such text is
refused at its path. Control characters (except tab, line feed and carriage return) are removed,
as from every form value: nobody means them, and PostgreSQL refuses NUL in text. Two keys of one
object that are the same once they are removed (``"child_name"`` and ``"child_name\\u0007"``)
are refused at that key's path (`collided`): one of the two values would be lost unsaid."""

from handover.security.hardening import without_control_characters


def cleaned(value):
    """``value`` (parsed JSON) with control characters removed from every string, keys too;
    the paths (tuples of keys and indexes) of the strings in it that are not Unicode; and
    those of the keys that two keys of one object became once their control characters were
    removed."""
    found = {}
    value = _cleaned(value, (), found)
    return (value, [path for path, kind in found.items() if kind is True],
            [path for path, kind in found.items() if kind == COLLIDED])


#: What `_cleaned` notes at the path of a key two keys of one object became.
COLLIDED = "collided"


def error_tree(paths, message):
    """``paths`` as marshmallow's nested ``{key: {...: [message]}}``, which the API's error
    handler writes out as dotted paths."""
    tree = {}
    for path in paths:
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = [message]
    return tree


def _cleaned(value, path, found):
    if isinstance(value, str):
        if not _is_unicode(value):
            found[path] = True
        return without_control_characters(value)
    if isinstance(value, list):
        return [_cleaned(item, (*path, number), found) for number, item in enumerate(value)]
    if isinstance(value, dict):
        return _cleaned_object(value, path, found)
    return value


def _cleaned_object(value, path, found):
    result = {}
    for key, item in value.items():
        if not _is_unicode(key):   # its path can only be written with the text replaced
            found[(*path, key.encode("utf-8", "replace").decode())] = True
            continue
        plain = without_control_characters(key)
        if plain in result:
            found[(*path, plain)] = COLLIDED
        result[plain] = _cleaned(item, (*path, key), found)
    return result


def _is_unicode(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
