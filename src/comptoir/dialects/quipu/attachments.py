"""Attachments: `POST /attachments` takes a multipart body (`file` and `book_entry_id`), read while it
streams in and refused past COMPTOIR_UPLOAD_BYTES_MAX. The `url` is a signed link valid an hour
(`/attachments/{id}/file?token=...`), so a client fetches the bytes the way it fetches Quipu's
uploads, without its token."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request, Response

from comptoir.domain.errors import DomainError
from comptoir.domain.query import ListQuery
from comptoir.services.access import links
from comptoir.services.documents import attachments, files
from comptoir.services.kernel import unit_of_work
from comptoir.wire import (
    BodyTooLarge,
    MalformedMultipart,
    PartTooLarge,
    content_disposition,
    deferred,
    read_multipart,
)

from .conventions import (
    Resource,
    View,
    answer,
    element_id,
    linkage,
    relationships,
    row_id,
    writing,
)
from .entry_types import entry_type
from .errors import BAD_REQUEST, NOT_FOUND, Detail, QuipuError
from .security import context_of

LINK_PURPOSE = "quipu-attachment"
LINK_LIFETIME_S = 3600
IMAGES = ("image/jpeg", "image/png", "image/bmp")
POINTERS = {"document_id": "/data/attributes/book_entry_id", "file": "/data/attributes/file"}


def render(attachment: Any, view: View) -> dict:
    stored = attachments.stored_file(view.book, attachment)
    token = links.sign(view.secret, LINK_PURPOSE, {"attachment": attachment.id, "org": attachment.org_id},
                       int(time.time()) + LINK_LIFETIME_S)
    url = f"{view.base_url}/quipu/attachments/{attachment.id}/file?token={token}"
    attributes = {"url": url, "filename": stored.filename, "content_type": stored.content_type}
    if stored.content_type in IMAGES:  # previews are the image itself: nothing is resized
        attributes.update(small_url=url, thumbnail_url=url)
    document = view.book.documents.get(attachment.document_id)
    return {"id": str(attachment.id), "type": "attachments", "attributes": attributes,
            "relationships": relationships(book_entry=linkage(entry_type(document), document.id))}


class Attachments:
    def __init__(self, files_root: Path) -> None:
        self.files_root = files_root

    def get(self, book, attachment_id: int) -> Any:
        return attachments.get(book, attachment_id)

    def delete(self, book, attachment_id: int) -> None:
        attachments.delete(book, self.files_root, attachment_id)

    def list(self, book, query: ListQuery):
        raise NotImplementedError  # Quipu lists attachments only through their book entries


async def _upload(request: Request) -> tuple[int | None, str | None, bytes]:
    """The `book_entry_id` and `file` of the multipart body; 400 when it is not multipart or too
    large, 422 when a field is missing."""
    limit = context_of(request).settings.upload_bytes_max
    try:
        parts = {part.name: part for part in await read_multipart(request, {"file": limit})}
    except (BodyTooLarge, PartTooLarge, MalformedMultipart) as error:
        raise QuipuError(400, f"{BAD_REQUEST}: {error}") from None
    problems = []
    file = parts.get("file")
    if file is None or not file.data:
        problems.append(Detail("File can't be blank.", POINTERS["file"]))
    entry = parts.get("book_entry_id")
    document_id = row_id(entry.data.decode("utf-8", "replace").strip()) if entry is not None else None
    if document_id is None:
        problems.append(Detail("Book entry can't be blank.", POINTERS["document_id"]))
    if problems:
        raise QuipuError(422, problems[0].detail, details=problems)
    return document_id, file.filename, file.data


def mount(router: APIRouter, resource: Resource, prefix: str, files_root: Path) -> None:
    async def create(request: Request) -> Response:
        upload = await deferred(_upload(request), QuipuError)

        def work(book: Any) -> Response:
            document_id, filename, data = upload.value()
            attachment = attachments.attach(book, files_root, document_id, filename, data)
            return answer(request, book, resource, attachment, 201)

        return await writing(request, work, POINTERS)

    async def download(element: str, request: Request) -> Response:
        """The bytes behind a signed link (the link is the credential)."""
        payload = _verified(request, request.query_params.get("token") or "")
        if payload.get("attachment") != element_id(element):
            raise QuipuError(404, NOT_FOUND)

        def work(book: Any) -> Any:
            return files.copy_of(files_root, attachments.stored_file(book, attachments.get(book, payload["attachment"])))

        try:
            copy = await unit_of_work.reading(context_of(request).database, unit_of_work.Known(payload["org"]), work)
            data = await anyio.to_thread.run_sync(copy.render)
        except (DomainError, FileNotFoundError):
            raise QuipuError(404, NOT_FOUND) from None
        return Response(data, media_type=copy.content_type,
                        headers={"Content-Disposition": content_disposition("attachment", copy.filename),
                                 "X-Content-Type-Options": "nosniff"})

    router.add_api_route(f"{prefix}/attachments", create, methods=["POST"], status_code=201, tags=["attachments"])
    if prefix == "":  # the signed link needs no owner: one shape
        router.add_api_route("/attachments/{element}/file", download, methods=["GET"], tags=["attachments"])


def _verified(request: Request, token: str) -> dict:
    try:
        return links.verify(context_of(request).settings.session_secret(), LINK_PURPOSE, token)
    except (links.LinkInvalid, links.LinkExpired):
        raise QuipuError(404, NOT_FOUND) from None


def resource(files_root: Path) -> Resource:
    return Resource(path="attachments", service=Attachments(files_root), render=render, pointers=POINTERS,
                    operations=frozenset({"get", "delete"}))

