"""Endpoints declare their schemas once; the OpenAPI 3.1 document is built from them."""
from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from helpdesk.api.schemas import Problem


@dataclass(frozen=True)
class Param:
    name: str
    schema: dict
    description: str = ""
    where: str = "query"
    required: bool = False


@dataclass
class Endpoint:
    method: str
    path: str  # OpenAPI style: /tickets/{ref}
    summary: str
    response: type[BaseModel] | None
    body: type[BaseModel] | None = None
    params: list[Param] = field(default_factory=list)
    status: int = 200
    tag: str = "tickets"


ENDPOINTS: list[Endpoint] = []
ERRORS = {"400": "Malformed request (a NUL character, JSON nested too deeply, a number "
                 "out of range): nothing was changed",
          "401": "Missing, unknown, expired or revoked token",
          "403": "Not allowed", "404": "Not found, or not visible to you",
          "409": "Not possible in the object's current state",
          "422": "Invalid input", "429": "Too many requests"}


def declare(endpoint: Endpoint) -> Endpoint:
    ENDPOINTS.append(endpoint)
    return endpoint


def _models() -> list[type[BaseModel]]:
    found = {Problem}
    for e in ENDPOINTS:
        found.update(m for m in (e.body, e.response) if m is not None)
    return sorted(found, key=lambda m: m.__name__)


def openapi_document(server_url: str = "/api/v1") -> dict:
    """The OpenAPI 3.1 description of every declared endpoint."""
    keys, schemas = models_json_schema([(m, "validation") for m in _models()],
                                       ref_template="#/components/schemas/{model}")
    ref = lambda m: {"$ref": f"#/components/schemas/{m.__name__}"}  # noqa: E731
    problem = {"application/problem+json": {"schema": ref(__import__(
        "helpdesk.api.schemas", fromlist=["Problem"]).Problem)}}
    paths: dict = {}
    for e in ENDPOINTS:
        op = {"summary": e.summary, "operationId": f"{e.method.lower()}_{_slug(e.path)}",
              "tags": [e.tag],
              "parameters": [{"name": p.name, "in": p.where, "required": p.required or p.where == "path",
                              "description": p.description, "schema": p.schema} for p in e.params],
              "responses": {str(e.status): {"description": "OK", **(
                  {"content": {"application/json": {"schema": ref(e.response)}}} if e.response else {})},
                  **{code: {"description": text, "content": problem} for code, text in ERRORS.items()}}}
        if e.body is not None:
            op["requestBody"] = {"required": True,
                                 "content": {"application/json": {"schema": ref(e.body)}}}
        paths.setdefault(e.path, {})[e.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Αρωγή API", "version": "1.0.0",
                 "description": "The helpdesk of the Greek school network's technical support."},
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"schemas": schemas.get("$defs", {}),
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


def _slug(path: str) -> str:
    return "_".join(part.strip("{}") for part in path.strip("/").split("/")) or "root"
