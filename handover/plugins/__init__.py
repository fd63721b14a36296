"""The plugin machinery: finding and loading plugins (built-in and installed), the per-app
pluggy manager, the switches that enable and disable them, and the one way the core calls a hook.

- ``loading``: ``DEFAULT_PLUGINS`` (the built-in forms), entry points and the instance's plugins
  folder, and what their ``register_*`` hooks answer;
- ``state``: what one app knows about its plugins, and how a hook implementation is called and
  what happens when it fails;
- ``switches``: the instance's on/off switches and run-time failures, in the database;
- ``manager``: the API the rest of Handover uses (``init_app``, ``call_hook``, ``registry``,
  ``plugins``, ``set_enabled``, ``unit_kinds``).

The built-in forms themselves live in the repository's top-level ``plugins/`` and ``forms/``
folders, installed as ``handover.builtin_plugins`` and ``handover.builtin_forms``, and are loaded
through exactly the same hooks as a third-party plugin. This package may import
``handover.formdefs``, ``handover.store`` and ``handover.hookspecs``, never services or the web.
"""
