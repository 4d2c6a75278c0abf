"""Errors in the OpenAI shape, ``{"error": {"message", "type", "param", "code"}}``, for every
failure a client can see: our own checks, FastAPI's validation, unknown routes, engine errors
and bugs. A client never gets a traceback; the message is one sentence."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from nudge_local import (
    BusyError,
    ChatTemplateError,
    ContextOverflowError,
    ModelClosedError,
    NudgeError,
    SettingError,
)

log = logging.getLogger("nudge_local.server")

INVALID_REQUEST = "invalid_request_error"
SERVER_ERROR = "server_error"


class ApiError(Exception):
    """An answer other than 200, as the OpenAI API would give it."""

    def __init__(self, status: int, message: str, *, type: str = INVALID_REQUEST, param: str | None = None,
                 code: str | None = None, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = one_sentence(message)
        self.type = type
        self.param = param
        self.code = code
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def bad_request(message: str, param: str | None = None, code: str = "invalid_value") -> ApiError:
    return ApiError(400, message, param=param, code=code)


def one_sentence(text: str) -> str:
    """One line of printable text: what an error becomes before it leaves the server."""
    flat = " ".join(str(text).split())
    return "".join(ch if ch.isprintable() else "?" for ch in flat)


def from_engine(exc: BaseException) -> ApiError:
    """The answer for an exception raised while preparing or running a generation."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, ContextOverflowError):
        return ApiError(400, str(exc), param="messages", code="context_length_exceeded")
    if isinstance(exc, (SettingError, ChatTemplateError)):
        # A template that refuses a conversation (roles out of order, say) is the request's doing.
        return bad_request(str(exc))
    if isinstance(exc, (ModelClosedError, BusyError)):
        return ApiError(503, str(exc), type=SERVER_ERROR, code="unavailable", headers={"Retry-After": "1"})
    if isinstance(exc, NudgeError):
        return ApiError(500, str(exc), type=SERVER_ERROR, code="generation_failed")
    return ApiError(500, f"The engine failed while generating this answer ({type(exc).__name__}); "
                    "the server is still running and its log says more.", type=SERVER_ERROR,
                    code="generation_failed")


def install_error_handlers(app: FastAPI) -> None:
    """Route every error FastAPI or Starlette would answer on their own through our shape."""

    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return exc.response()

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return validation_to_api_error(exc.errors()).response()

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return http_to_api_error(request, exc).response()

    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error on %s %s: %s", request.method, request.url.path,
                  one_sentence(f"{type(exc).__name__}: {exc}"))
        return ApiError(500, "The server failed on this request; it is still running and its log says more.",
                        type=SERVER_ERROR, code="internal_error").response()

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, internal_error)


def http_to_api_error(request: Request, exc: StarletteHTTPException) -> ApiError:
    if exc.status_code == 404:
        message = f"There is no {request.method} {request.url.path} here; see GET /v1/models, " \
                  "POST /v1/chat/completions, POST /v1/completions and GET /health."
        return ApiError(404, message, code="not_found")
    if exc.status_code == 405:
        return ApiError(405, f"{request.url.path} does not accept {request.method}.", code="method_not_allowed")
    detail = exc.detail if isinstance(exc.detail, str) else "The request failed."
    kind = SERVER_ERROR if exc.status_code >= 500 else INVALID_REQUEST
    return ApiError(exc.status_code, _as_sentence(detail), type=kind, headers=exc.headers)


def validation_to_api_error(errors: Sequence[Any]) -> ApiError:
    """FastAPI's list of pydantic errors as one sentence about the first one."""
    if not errors:
        return bad_request("The request is not valid.")
    first = errors[0]
    loc = [part for part in first.get("loc", ()) if part != "body"]
    kind = first.get("type", "")
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    if kind == "json_invalid":
        reason = (first.get("ctx") or {}).get("error", "")
        return bad_request(f"The request body is not valid JSON{': ' + reason if reason else ''}.",
                           code="invalid_json")
    if not loc or (len(loc) == 1 and isinstance(loc[0], int)):
        return bad_request("The request body must be a JSON object, sent with Content-Type: application/json.",
                           code="invalid_body")
    param = _param_name(loc)
    if kind == "missing":
        return bad_request(f"'{param}' is required{more}.", param=param, code="missing_required_parameter")
    message = str(first.get("msg", "invalid value")).rstrip(".")
    return bad_request(f"Invalid '{param}': {message}{more}.", param=param)


def _param_name(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _as_sentence(text: str) -> str:
    text = one_sentence(text).rstrip(".")
    return (text[:1].upper() + text[1:] + ".") if text else "The request failed."
