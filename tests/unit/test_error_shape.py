

def test_the_openapi_document_resolves_and_documents_what_the_api_answers(api: Api) -> None:
    doc = api.get("/openapi.json", headers={}).json_body
    schemas = doc["components"]["schemas"]

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            return ([node["$ref"]] if "$ref" in node else []) + [r for v in node.values() for r in refs(v)]
        if isinstance(node, list):
            return [r for v in node for r in refs(v)]
        return []

    for ref in refs(doc):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            codes = set(op["responses"])
            if "security" in op:  # credentials are looked up: 401, 403 and a busy table's 503
                assert {"401", "403", "503"} <= codes, (method, path, codes)
            if "requestBody" in op:
                assert {"400", "413", "415", "422"} <= codes, (method, path, codes)
    assert {"401", "429", "503"} <= set(doc["paths"]["/auth/login"]["post"]["responses"])
    bet_in = schemas["BetIn"]
    assert {"if": {"properties": {"channel": {"const": "retail"}}}, "then": {"required": ["shop_id"]}} in bet_in["allOf"]


def test_trace_and_other_undeclared_methods_are_a_405_in_our_shape(api: Api) -> None:
    r = api.c.http.request("TRACE", "/health", headers={})
    assert r.status_code == 405 and _ours(r)["error"] == "method_not_allowed"
