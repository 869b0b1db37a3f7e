"""recount: wires routes and handlers to the services. Nothing else lives here."""

from chalice import Chalice

from chalicelib.api import admin, cases, dev, meta, person
from chalicelib.api.middleware import bind_tables

app = Chalice(app_name="recount")
app.register_middleware(bind_tables, "all")
for blueprint in (meta.bp, person.bp, cases.bp, admin.bp, dev.bp):
    app.register_blueprint(blueprint)
