"""A readable reference of the API, rendered on the server from the same OpenAPI document that
/api/v1/openapi.json serves: no script UI (which would come from a CDN), works without
JavaScript, and can never disagree with the document."""

from flask import current_app, render_template

from handover.web.api import bp

METHODS = ("get", "post", "put", "patch", "delete")


@bp.get("/reference")
@bp.doc(hide=True)
def reference():
    spec = current_app.spec
    operations = [
        {"method": method.upper(), "path": path, "operation": item[method],
         "anchor": f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", "")}
        for path, item in sorted(spec.get("paths", {}).items())
        for method in METHODS if method in item
    ]
    return render_template("admin_clients/api_reference.html", spec=spec,
                           operations=operations)
