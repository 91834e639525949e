"""v5's error responses (v5-api.md §5.4), raised as exceptions and rendered by the app middleware."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer: HTTP status plus the exact JSON body v5 would send.

    `without_json` says what Laravel does instead when the request does not "expect JSON"
    (no `X-Requested-With: XMLHttpRequest`, no JSON Accept): v5's Handler only renders its JSON
    shapes for such requests and otherwise falls back to the framework's HTML pages and redirects.
    None means the JSON answer goes out regardless.
    """

    def __init__(self, status: int, body: Any, without_json: str | None = None) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.without_json = without_json


# Values of ApiError.without_json
HTML_NOT_FOUND = "html_404"
HTML_METHOD_NOT_ALLOWED = "html_405"
HTML_SERVER_ERROR = "html_500"
HTML_FORBIDDEN = "html_403"
REDIRECT_BACK = "redirect_back"


def message(status: int, text: str) -> ApiError:
    return ApiError(status, {"message": text})


def model_not_found(model: str) -> ApiError:
    # Laravel's ModelNotFoundException text; v5 answers it with 400 for JSON clients.
    return ApiError(400, {"message": f"No query results for model [App\\Models\\{model}]."}, HTML_NOT_FOUND)


def numeric_path_id(value: str) -> ApiError:
    return ApiError(400, {"message": f"Record with value {value} not found"}, HTML_NOT_FOUND)


def invalid_include(relation: str) -> ApiError:
    # An Eloquent RelationNotFoundException: a plain 500 page unless the client expects JSON.
    return ApiError(400, {"message": f"Relation `{relation}` is not a valid include."}, HTML_SERVER_ERROR)


def unauthorized() -> ApiError:
    # A policy refusal (e.g. another company's record): Laravel's AuthorizationException, a 401 in v5.
    return ApiError(401, {"message": "This action is unauthorized."}, HTML_FORBIDDEN)


def invalid_token() -> ApiError:
    return ApiError(403, {"message": "Invalid token", "errors": {}})


def route_not_found() -> ApiError:
    return message(404, "404 | Nothing to see here!")


def method_not_supported() -> ApiError:
    return ApiError(404, {"message": "Method not supported for this route"}, HTML_METHOD_NOT_ALLOWED)


def server_error() -> ApiError:
    return ApiError(500, {"message": "Server Error"}, HTML_SERVER_ERROR)


def record_deleted() -> ApiError:
    return message(400, "Record is deleted and cannot be edited. Restore the record to enable editing")


class ValidationErrors:
    """Collects Laravel-style validation messages and raises them as one 422."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, attribute: str, text: str) -> None:
        self.errors.setdefault(attribute, []).append(text)

    # Laravel shows attributes with underscores replaced by spaces.
    @staticmethod
    def label(attribute: str) -> str:
        return attribute.replace("_", " ")

    def required(self, attribute: str) -> None:
        self.add(attribute, f"The {self.label(attribute)} field is required.")

    def invalid(self, attribute: str) -> None:
        self.add(attribute, f"The selected {self.label(attribute)} is invalid.")

    def taken(self, attribute: str) -> None:
        self.add(attribute, f"The {self.label(attribute)} has already been taken.")

    def not_email(self, attribute: str) -> None:
        self.add(attribute, f"The {self.label(attribute)} field must be a valid email address.")

    def not_number(self, attribute: str) -> None:
        self.add(attribute, f"The {self.label(attribute)} field must be a number.")

    def not_date(self, attribute: str) -> None:
        self.add(attribute, f"The {self.label(attribute)} field must be a valid date.")

    def not_url(self, attribute: str) -> None:
        self.add(attribute, f"The {self.label(attribute)} field must be a valid URL.")

    def not_array(self, attribute: str) -> None:
        self.add(attribute, f"The {self.label(attribute)} field must be an array.")

    def raise_if_any(self) -> None:
        if self.errors:
            raise ApiError(422, {"message": "The given data was invalid.", "errors": self.errors}, REDIRECT_BACK)
