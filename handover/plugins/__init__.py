"""The plugin machinery: finding and loading plugins (built-in and installed), the per-app
pluggy manager, the switches that enable and disable them, and the one way the core calls a hook.

The built-in forms themselves live in the repository's top-level ``plugins/`` and ``forms/``
folders and are loaded through exactly the same hooks as a third-party plugin. This package may
import `handover.formdefs`, `handover.store` and `handover.hookspecs`, never services or the web.
"""
