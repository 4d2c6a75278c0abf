"""The endpoints: ``/health``, ``/v1/models``, ``/v1/chat/completions``, ``/v1/completions``."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from ._errors import SERVER_ERROR, ApiError
from ._queue import GenerationQueue
from ._respond import respond
from ._schemas import ChatCompletionRequest, CompletionRequest, Only, chat_params, completion_params, include_usage
from ._shapes import Responder


class ModelIds:
    """The ids ``/v1/models`` lists: the pair (``demo``) and each model alone (``demo:base``,
    ``demo:nudging``). A request without a model (or an empty one) means the pair."""

    def __init__(self, label: str):
        self.pair = label
        self.alone: dict[str, Only] = {f"{label}:base": "base", f"{label}:nudging": "nudging"}

    def all(self) -> list[str]:
        return [self.pair, *self.alone]

    def resolve(self, requested: str | None) -> tuple[str, Only | None]:
        if not requested or requested == self.pair:
            return self.pair, None
        if requested in self.alone:
            return requested, self.alone[requested]
        raise ApiError(404, f"The model '{requested}' does not exist here; this server has "
                       f"{', '.join(repr(i) for i in self.all())}.", param="model", code="model_not_found")


def _queue(request: Request) -> GenerationQueue:
    generations = request.app.state.generations
    assert isinstance(generations, GenerationQueue)
    return generations


def require_key(request: Request) -> None:
    api_key: str | None = request.app.state.api_key
    if api_key is None:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise ApiError(401, "This server needs an API key: send it as 'Authorization: Bearer KEY'.",
                       code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})
    if not hmac.compare_digest(given.strip().encode("utf-8"), api_key.encode("utf-8")):
        raise ApiError(401, "The API key is not the one this server was started with.", code="invalid_api_key",
                       headers={"WWW-Authenticate": "Bearer"})


def require_ready(request: Request) -> ModelIds:
    generations = _queue(request)
    if generations.state == "ready" and generations.info is not None:
        return ModelIds(generations.info.label)
    raise _not_ready(generations)


Ready = Annotated[ModelIds, Depends(require_ready)]

router = APIRouter()
v1 = APIRouter(prefix="/v1", dependencies=[Depends(require_key)])


@router.get("/health")
def health(request: Request) -> Response:
    generations = _queue(request)
    if generations.state != "ready" or generations.info is None:
        return _not_ready(generations).response()
    return JSONResponse({"status": "ok", "model": generations.info.label,
                         "queue": {"running": generations.busy, "waiting": generations.waiting,
                                   "max_waiting": generations.max_waiting}})


@v1.get("/models")
def list_models(request: Request, ids: Ready) -> dict[str, Any]:
    return {"object": "list", "data": [_model_card(request, i, ids) for i in ids.all()]}


@v1.get("/models/{model_id:path}")
def get_model(request: Request, model_id: str, ids: Ready) -> dict[str, Any]:
    if model_id not in ids.all():
        ids.resolve(model_id or "\0")  # raises the 404
    return _model_card(request, model_id, ids)


@v1.post("/chat/completions")
async def chat_completions(body: ChatCompletionRequest, request: Request, ids: Ready) -> Response:
    model, only = ids.resolve(body.model)
    params = chat_params(body, only)
    generations = _queue(request)
    responder = Responder("chat", model, _gamma(params.gamma, generations))
    return await respond(request, generations, params, responder, stream=body.stream,
                         include_usage=include_usage(body))


@v1.post("/completions")
async def completions(body: CompletionRequest, request: Request, ids: Ready) -> Response:
    model, only = ids.resolve(body.model)
    params = completion_params(body, only)
    generations = _queue(request)
    responder = Responder("completion", model, _gamma(params.gamma, generations))
    return await respond(request, generations, params, responder, stream=body.stream,
                         include_usage=include_usage(body))


router.include_router(v1)


def _gamma(requested: float | None, generations: GenerationQueue) -> float:
    return generations.default_gamma if requested is None else requested


def _not_ready(generations: GenerationQueue) -> ApiError:
    if generations.state == "failed":
        return ApiError(503, f"The models failed to load: {generations.load_error}", type=SERVER_ERROR,
                        code="model_load_failed")
    if generations.state == "closed":
        return ApiError(503, "The server is shutting down.", type=SERVER_ERROR, code="unavailable")
    return ApiError(503, "The models are still loading; retry in a few seconds.", type=SERVER_ERROR,
                    code="model_loading", headers={"Retry-After": "2"})


def _model_card(request: Request, model_id: str, ids: ModelIds) -> dict[str, Any]:
    info = _queue(request).info
    assert info is not None
    card: dict[str, Any] = {"id": model_id, "object": "model", "created": request.app.state.created,
                            "owned_by": "nudge-local"}
    only = ids.alone.get(model_id)
    models = {"base": info.base.name, "nudging": info.nudging.name}
    card["nudge"] = {"mode": only or "nudged", "gamma": info.gamma, "models": models,
                     "n_ctx": {"base": info.base.n_ctx, "nudging": info.nudging.n_ctx}}
    return card
