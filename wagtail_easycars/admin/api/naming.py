"""snake_case keys, and the camelCase spellings the admin API used before (deprecated for one release).

The admin API's keys are snake_case, like the showroom API's. Until the camelCase ones are
removed, answers carry both spellings and requests may use either; dropping the callers of
``with_camel_aliases``, ``alias_names`` and ``read``'s fallback ends the deprecation.
"""


def camel(name):
    """``records_total`` -> ``recordsTotal``; names starting with ``_`` (``__all__``) are left alone."""
    if name.startswith("_"):
        return name
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def with_camel_aliases(data):
    """``data`` (snake_case keys) followed by each key's deprecated camelCase spelling."""
    aliased = dict(data)
    for key, value in data.items():
        aliased.setdefault(camel(key), value)
    return aliased


def alias_names(names):
    """A list of field names followed by their deprecated camelCase spellings (where they differ)."""
    names = list(names)
    return names + [camel(name) for name in names if camel(name) != name]


def read(data, name, default=None):
    """The value of ``name`` in request data or query parameters, else of its deprecated camelCase key."""
    if name in data:
        return data[name]
    return data.get(camel(name), default)
