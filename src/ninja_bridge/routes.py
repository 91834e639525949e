"""The v4 route table, built from the resources declared in the mappings."""

from __future__ import annotations

from dataclasses import dataclass

from .translate.spec import Mappings

API_PREFIX = "/api/v1"

# How Laravel's Route::resource laid out each operation (v4-api.md §1.2).
OPERATION_ROUTES: dict[str, list[tuple[str, str]]] = {
    "list": [("GET", "")],
    "show": [("GET", "/{id}")],
    "create": [("POST", "")],
    "update": [("PUT", "/{id}"), ("PATCH", "/{id}")],
    "delete": [("DELETE", "/{id}")],
}


@dataclass(frozen=True)
class V4Route:
    method: str
    path: str  # aiohttp path template, e.g. /api/v1/clients/{id}
    resource: str
    operation: str


def route_table(mappings: Mappings) -> list[V4Route]:
    routes = []
    for name, resource in mappings.resources.items():
        for operation in resource.operations:
            for method, suffix in OPERATION_ROUTES[operation]:
                routes.append(V4Route(method, f"{API_PREFIX}/{name}{suffix}", name, operation))
    return routes


# v4 routes served by actions.py and documents.py (`PUT ?action=` rides on the resources' update).
ACTION_ROUTES: list[tuple[str, str]] = [("POST", "/email_invoice"), ("GET", "/download/{id}"), ("POST", "/documents")]


def all_routes(mappings: Mappings) -> list[tuple[str, str]]:
    """Every (method, path) the proxy serves: the resources' routes, the special, hook and action ones."""
    from .resources.special import SPECIAL_ROUTES  # the handlers import the proxy, which needs no routes
    from .webhooks import HOOK_ROUTES

    routes = [(route.method, route.path) for route in route_table(mappings)]
    routes += [(route.method, API_PREFIX + route.path) for route in SPECIAL_ROUTES]
    routes += HOOK_ROUTES
    routes += [(method, API_PREFIX + path) for method, path in ACTION_ROUTES]
    return list(dict.fromkeys(routes))
