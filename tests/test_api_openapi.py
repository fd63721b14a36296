"""The API describes itself: an OpenAPI 3.1 document and a readable reference page, both
without a token (they say nothing about anyone's data)."""

import json


def test_openapi_document_is_3_1_and_names_the_scope_of_each_operation(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["BearerAuth"]["scheme"] == "bearer"
    for path, item in document["paths"].items():
        assert path.startswith("/api/v1/")
        for operation in item.values():
            (requirement,) = operation["security"]
            assert requirement["BearerAuth"], (path, "no scope named")
            assert "401" in operation["responses"]


def test_reference_page_lists_every_operation_without_script(client):
    document = client.get("/api/v1/openapi.json").json
    page = client.get("/api/v1/reference")
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    for path, item in document["paths"].items():
        for method in item:
            assert f"{method.upper()} {path}" in text
    assert 'src="http' not in text and 'href="http' not in text   # nothing from elsewhere


def test_every_operation_documents_the_503_and_no_schema_is_openapi_3_0(client):
    """An integrator's generated client knows the outage answer of every operation, and a
    3.1 validator meets no ``nullable`` (3.0's word): a query parameter is given or absent."""
    document = client.get("/api/v1/openapi.json").json
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert "503" in operation["responses"], (method, path)
            for parameter in operation.get("parameters", ()):
                assert parameter["schema"].get("default", "absent") is not None, (
                    method, path, parameter["name"])
    assert '"nullable"' not in json.dumps(document)
