"""Cross-site request forgery protection for every form post (Flask-WTF), bound in `create_app`."""

from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
