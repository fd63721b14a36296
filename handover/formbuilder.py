"""WTForms classes built from a form definition (being written)."""


def init_app(app):
    pass
