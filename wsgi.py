"""The WSGI entry point for gunicorn: ``gunicorn --workers 4 wsgi:app`` (from this folder, or
with ``--chdir`` pointing here). Configuration comes from the environment and the instance
folder (``HANDOVER_INSTANCE_PATH``), as for every other way of starting Handover; see the
README's production section."""

from handover import create_app

app = create_app()
