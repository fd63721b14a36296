"""Persistence: the database extension and its engine settings, the models, the migrations and
the append-only audit chain.

The bottom layer. It may import only libraries, `handover.config` and `handover.i18n`; nothing
here knows of services, security, plugins, the web or the CLI.
"""
