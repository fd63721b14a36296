"""The built-in forms, one plugin module per form; installed as ``handover.builtin_plugins``.

Each module is an ordinary plugin using the public ``handover.hookimpl``; the core loads them
because ``handover.plugins.loading.DEFAULT_PLUGINS`` names them, exactly as it loads any other.
"""
