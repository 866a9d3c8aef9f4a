"""The log's transparency endpoints: public key, signed checkpoint, inclusion and consistency proofs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from api.deps import StoreDep, require
from lineage.checkpoints import Signer, consistency_proof, inclusion_proof
from lineage.errors import InvalidEvent, StoreUnavailable
from lineage.merkle import TreeBehind

router = APIRouter(tags=["log"])


def _signer(request: Request) -> Signer:
    return request.app.state.signer  # type: ignore[no-any-return]


@contextmanager
def _tree_errors(field: str) -> Iterator[None]:
    try:
        yield
    except TreeBehind as exc:
        raise StoreUnavailable(str(exc)) from exc
    except ValueError as exc:  # a size or seq outside the log
        raise InvalidEvent(field, str(exc)) from exc


def _current_size(tree: Any, asked: int | None) -> int:
    return tree.size if asked is None else int(asked)


@router.get("/api/v1/log/key", dependencies=[require("read")], summary="The public key that signs checkpoints (PEM)", response_class=PlainTextResponse)
def key(request: Request) -> PlainTextResponse:
    return PlainTextResponse(_signer(request).public_pem())


@router.get("/api/v1/log/checkpoint", dependencies=[require("read")], summary="A signed checkpoint of the log: size, Merkle root, time")
def signed_checkpoint(request: Request, store: StoreDep) -> dict[str, Any]:
    """`signature` is Ed25519 (base64) over the four lines origin, size, root, time, each ending
    in a newline; verify it with the key at /api/v1/log/key."""
    with _tree_errors("size"):
        return _signer(request).checkpoint(store).as_dict()


@router.get("/api/v1/log/proof/inclusion", dependencies=[require("read")], summary="RFC 9162 inclusion proof of a log entry")
def inclusion(
    store: StoreDep,
    seq: Annotated[int, Query(ge=1, description="The entry's seq")],
    size: Annotated[int | None, Query(ge=1, description="The tree size (a checkpoint's); default: the whole log")] = None,
) -> dict[str, Any]:
    def work(tree: Any) -> dict[str, Any]:
        return inclusion_proof(tree, seq, _current_size(tree, size))

    with _tree_errors("seq"):
        return store.log_tree(work)


@router.get("/api/v1/log/proof/consistency", dependencies=[require("read")], summary="RFC 9162 consistency proof between two tree sizes")
def consistency(
    store: StoreDep,
    from_: Annotated[int, Query(alias="from", ge=0, description="The older size (an earlier checkpoint's)")],
    to: Annotated[int | None, Query(ge=0, description="The newer size; default: the whole log")] = None,
) -> dict[str, Any]:
    def work(tree: Any) -> dict[str, Any]:
        return consistency_proof(tree, from_, _current_size(tree, to))

    with _tree_errors("from"):
        return store.log_tree(work)
