"""Refusals the API answers before any handler runs keep the API's French JSON shape."""

from tests.conftest import api_client


def test_unknown_address_and_method_answer_in_the_api_shape(world):
    client = api_client(world.nurse_a)
    unknown = client.get("/api/v1/nulle-part")
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "Ressource introuvable."}
    wrong_method = client.delete("/api/v1/patients")
    assert wrong_method.status_code == 405
    assert wrong_method.json() == {"detail": "Méthode non autorisée pour cette adresse."}
    assert "GET" in wrong_method["Allow"]


def test_pages_keep_their_html_error_pages(world):
    response = api_client(world.nurse_a).get("/nulle-part/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_the_openapi_document_declares_the_refusals_of_every_operation(db):
    from telesante.api import api

    schema = api.get_openapi_schema()
    assert set(schema["components"]["schemas"]["ErrorOut"]["properties"]) == {"detail", "errors"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert 400 in codes, (method, path)
            if operation.get("security"):
                assert {401, 403, 404} <= codes, (method, path)
            if method != "get":
                assert {409, 413} <= codes, (method, path)
    multipart = schema["paths"]["/api/v1/teleexpertise/multipart"]["post"]
    assert list(multipart["requestBody"]["content"]) == ["multipart/form-data"]
    assert multipart["responses"][201]["content"]["application/json"]
