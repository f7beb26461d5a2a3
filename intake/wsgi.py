"""The app as app servers run it: `gunicorn 'intake.wsgi:app'` (see deploy/gunicorn.conf.py).

It is the whole app without the command-line tools, whose migrations (Alembic) a web process never
needs; run `flask --app intake db upgrade` and the other commands with the full app.
"""

from . import create_app

app = create_app(commands=False)
