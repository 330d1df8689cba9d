"""The OpenAPI schema is drf-spectacular's, plus (this hook) what every operation may answer
besides success: problem details for 400/401/403/404/429, and 304 to a matching If-None-Match."""

from core.api.exceptions import PROBLEM_CONTENT_TYPE

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "An error, as RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string", "description": "Identifies the kind of problem."},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "The path that was requested."},
        "errors": {
            "type": "array",
            "description": "Invalid input, one entry per problem.",
            "items": {
                "type": "object",
                "properties": {
                    "pointer": {
                        "type": "string",
                        "description": "JSON Pointer into the request body, e.g. #/answers/relationship.",
                    },
                    "parameter": {"type": "string", "description": "The query parameter."},
                    "detail": {"type": "string"},
                    "code": {"type": "string"},
                },
                "required": ["detail", "code"],
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
}

ERRORS = {
    "400": "Invalid input: `errors` lists each problem.",
    "401": "No credentials, or a token that is unknown or revoked.",
    "403": "You may see this, but not do this.",
    "404": "Not found, or not visible to you (the two are never told apart).",
    "429": "Too many requests for this token: see Retry-After.",
}


def add_problem_responses(result, generator, request, public):
    """Postprocessing hook: document the problem responses every operation can give."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    problem = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            responses = operation.setdefault("responses", {})
            for code, description in ERRORS.items():
                responses.setdefault(code, {"description": description, "content": problem})
            if method == "get":
                responses.setdefault(
                    "304", {"description": "Not modified: you sent this version's ETag."}
                )
                operation.setdefault("parameters", []).append(
                    {
                        "in": "header",
                        "name": "If-None-Match",
                        "schema": {"type": "string"},
                        "description": "An ETag from an earlier answer: 304 if it still holds.",
                    }
                )
    return result
