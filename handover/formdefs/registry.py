"""Every form definition every plugin registered, every version, and the routing rules.

The registry never forgets a version: a handover records the key and version it was filled
with and must still render after its plugin is upgraded or disabled. What may be *chosen* for a
new handover (``forms()``) is only the newest version of each form of an enabled plugin.
"""

from collections.abc import Callable, Iterable

from handover.formdefs.model import FormDefinition, RoutingRule

Ident = tuple[str, int]


class UnknownForm(LookupError):
    """No such form (or no such version, or its plugin is disabled and no version was given)."""


class FormRegistry:
    def __init__(self, inactive_plugins: Callable[[], Iterable[str]]):
        """``inactive_plugins()`` returns the names of plugins that are disabled or failed; it
        is asked once per query, so a switch on the Plugins page takes effect at once."""
        self._inactive_plugins = inactive_plugins
        #: (key, version) -> the definition, and the name of the plugin that registered it.
        self._definitions: dict[Ident, FormDefinition] = {}
        self._owners: dict[Ident, str] = {}
        #: (key, version) -> a reply form, and the plugin whose form declares it.
        self._replies: dict[Ident, FormDefinition] = {}
        self._reply_owners: dict[Ident, str] = {}
        self._rules: list[RoutingRule] = []  # RoutingRule from register_routing_rules hooks
        #: (inactive plugin names, forms, routing rules) last worked out: a send asks about
        #: ten times within one request, with the same plugins switched off each time.
        self._active: tuple[frozenset[str], tuple[FormDefinition, ...],
                            tuple[RoutingRule, ...]] | None = None
        #: Versions kept only so that their handovers render: never offered for a new one.
        self._unchoosable: frozenset[Ident] = frozenset()

    # -- filled while plugins load -----------------------------------------------------------
    def add(self, definition: FormDefinition, owner: str) -> None:
        """Register one definition; raises ``ValueError`` when its key and version are taken,
        or its key or a reply form's is another plugin's."""
        ident = (definition.key, definition.version)
        if ident in self._definitions:
            raise ValueError(
                f"form {definition.key!r} version {definition.version} is already registered "
                f"by plugin {self._owners[ident]!r}"
            )
        for key in (definition.key, *(reply.key for reply in definition.reply_forms)):
            others = self.key_owners(key) - {owner}
            if others:
                raise ValueError(
                    f"form {key!r} belongs to plugin {min(others)!r}: a plugin cannot register "
                    "another plugin's form or reply form, in any version")
        self._definitions[ident] = definition
        self._owners[ident] = owner
        self._active = None
        for reply in definition.reply_forms:
            self._replies.setdefault((reply.key, reply.version), reply)
            self._reply_owners.setdefault((reply.key, reply.version), owner)

    def add_rule(self, rule: RoutingRule) -> None:
        self._rules.append(rule)
        self._active = None

    def remove_plugin(self, owner: str) -> None:
        """Forget what a plugin registered (it failed part-way through loading)."""
        for ident in [i for i, name in self._owners.items() if name == owner]:
            del self._definitions[ident]
            del self._owners[ident]
        for ident in [i for i, name in self._reply_owners.items() if name == owner]:
            del self._replies[ident]
            del self._reply_owners[ident]
        self._rules = [rule for rule in self._rules if rule.plugin_name != owner]
        self._active = None

    def replaced(self, owner: str, definitions: Iterable[FormDefinition],
                 unchoosable: Iterable[Ident] = ()) -> "FormRegistry":
        """A new registry: this one with what ``owner`` registered replaced by ``definitions``,
        of which ``unchoosable`` versions only render old handovers. A worker swaps it in
        whole, so a request holding this one finishes with it (uploaded forms reload so).
        Raises ``ValueError`` when a definition's key and version are taken by another owner."""
        fresh = FormRegistry(self._inactive_plugins)
        fresh._definitions, fresh._owners = dict(self._definitions), dict(self._owners)
        fresh._replies, fresh._reply_owners = dict(self._replies), dict(self._reply_owners)
        fresh._rules = list(self._rules)
        fresh.remove_plugin(owner)
        for definition in definitions:
            fresh.add(definition, owner)
        fresh._unchoosable = frozenset(unchoosable)
        return fresh

    def owner(self, key: str, version: int) -> str | None:
        """The plugin that registered form (or reply form) ``key`` ``version``, or None."""
        ident = (key, int(version))
        return self._owners.get(ident) or self._reply_owners.get(ident)

    def key_owners(self, key: str) -> set[str]:
        """The plugins that registered a form or reply form ``key``, in any version: a key
        is one plugin's, so that no other can take over its form by a higher version."""
        return ({name for (k, _), name in self._owners.items() if k == key}
                | {name for (k, _), name in self._reply_owners.items() if k == key})

    def has_key(self, key: str) -> bool:
        return any(k == key for k, _ in self._definitions)

    # -- queries -----------------------------------------------------------------------------
    def forms(self) -> list[FormDefinition]:
        """The newest version of each form whose plugin is enabled, sorted by key."""
        return list(self._active_now()[1])

    def _active_now(self) -> tuple[frozenset[str], tuple[FormDefinition, ...],
                                   tuple[RoutingRule, ...]]:
        """(inactive names, forms, rules) for the plugins inactive now, worked out again only
        when that set (asked every time) or what is registered changed."""
        inactive = frozenset(self._inactive_plugins())
        if self._active is None or self._active[0] != inactive:
            newest: dict[str, FormDefinition] = {}
            for (key, version), definition in self._definitions.items():
                if (self._owners[(key, version)] in inactive
                        or (key, version) in self._unchoosable):
                    continue
                if key not in newest or version > newest[key].version:
                    newest[key] = definition
            forms = tuple(newest[key] for key in sorted(newest))
            rules = tuple(
                RoutingRule(d.key, d.routing.senders, d.routing.receivers, d.routing.copies,
                            self._owners[(d.key, d.version)])
                for d in forms if d.routing is not None
            ) + tuple(rule for rule in self._rules
                      if rule.form in newest and rule.plugin_name not in inactive)
            self._active = (inactive, forms, rules)
        return self._active

    def get(self, key: str, version: int | str | None = None) -> FormDefinition:
        """That exact version (even of a disabled plugin), or the newest enabled version."""
        if version is not None:
            found = self._definitions.get((key, int(version))) or self._replies.get(
                (key, int(version))
            )
            if found is None:
                raise UnknownForm(f"no form {key!r} version {version}")
            return found
        for definition in self.forms():
            if definition.key == key:
                return definition
        raise UnknownForm(f"no enabled form {key!r}")

    def versions(self, key: str) -> list[int]:
        """Every registered version of ``key``, oldest first, whatever its plugin's state."""
        return sorted(v for k, v in self._definitions if k == key)

    def all_definitions(self) -> list[FormDefinition]:
        return [self._definitions[ident] for ident in sorted(self._definitions)]

    def definitions_of(self, owner: str) -> list[FormDefinition]:
        return [d for ident, d in sorted(self._definitions.items()) if self._owners[ident] == owner]

    def routing_rules(self, form_key: str | None = None) -> list[RoutingRule]:
        """Rules of enabled plugins for enabled forms: each definition's own ``[routing]`` (of
        its newest enabled version) plus rules plugins registered through the hook."""
        rules = self._active_now()[2]
        return [rule for rule in rules if form_key is None or rule.form == form_key]

    def rules_registered_by(self, owner: str) -> list[RoutingRule]:
        """What a plugin contributes to routing (for the Plugins page), whether enabled or not."""
        rules = []
        for key in sorted({k for (k, _), name in self._owners.items() if name == owner}):
            newest = max(v for (k, v), name in self._owners.items() if k == key and name == owner)
            definition = self._definitions[(key, newest)]
            if definition.routing is not None:
                rules.append(definition.routing)
        return rules + [rule for rule in self._rules if rule.plugin_name == owner]
