"""recount: wires routes and handlers to the services. Nothing else lives here."""

from chalice import Chalice

from chalicelib.api import dev, meta, person
from chalicelib.api.middleware import bind_tables

app = Chalice(app_name="recount")
app.register_middleware(bind_tables, "all")
app.register_blueprint(meta.bp)
app.register_blueprint(person.bp)
app.register_blueprint(dev.bp)
