"""``POST /v1/files/upload``: files stored in S3 (``uploads/<id>/<name>``) and turned into
Dify file values when a run's inputs name them by ``upload_file_id``."""

from __future__ import annotations

import json
import mimetypes
import time
import uuid
from typing import Any

from pydantic import BaseModel

from flowwright.api.errors import ApiError

__all__ = ["MAX_UPLOAD_BYTES", "UploadStore", "UploadedFile", "resolve_files"]

#: Dify's default ``UPLOAD_FILE_SIZE_LIMIT`` (15 MB).
MAX_UPLOAD_BYTES = 15 * 1024 * 1024
_KINDS = {
    "document": {
        "txt",
        "md",
        "markdown",
        "mdx",
        "pdf",
        "html",
        "htm",
        "xlsx",
        "xls",
        "docx",
        "csv",
        "eml",
        "msg",
        "pptx",
        "xml",
        "epub",
        "json",
        "vtt",
        "properties",
    },
    "image": {"jpg", "jpeg", "png", "gif", "webp", "svg"},
    "audio": {"mp3", "m4a", "wav", "amr", "mpga"},
    "video": {"mp4", "mov", "mpeg", "webm"},
}


class UploadedFile(BaseModel):
    """What ``/v1/files/upload`` answers (Dify's FileUploadResponse) plus where it lives."""

    id: str
    name: str
    size: int
    extension: str
    mime_type: str
    created_by: str
    created_at: int
    key: str

    def public(self) -> dict[str, Any]:
        body = self.model_dump(exclude={"key"})
        body.update(preview_url=None, source_url=None)
        return body


def file_type(extension: str) -> str | None:
    return next((kind for kind, exts in _KINDS.items() if extension in exts), None)


class UploadStore:
    """Uploads in the payload bucket: the bytes and a small JSON record beside them."""

    def __init__(self, bucket: str, *, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("s3")
        self.bucket = bucket
        self._s3 = client

    def save(self, name: str, data: bytes, user: str, content_type: str | None) -> UploadedFile:
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if file_type(extension) is None:
            raise ApiError(415, "unsupported_file_type", f"File type .{extension} not allowed.")
        if len(data) > MAX_UPLOAD_BYTES:
            raise ApiError(413, "file_too_large", "File size exceeded.")
        file_id = str(uuid.uuid4())
        mime = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        record = UploadedFile(
            id=file_id,
            name=name,
            size=len(data),
            extension=extension,
            mime_type=mime,
            created_by=user,
            created_at=int(time.time()),
            key=f"uploads/{file_id}/{name}",
        )
        self._s3.put_object(Bucket=self.bucket, Key=record.key, Body=data, ContentType=mime)
        self._s3.put_object(
            Bucket=self.bucket,
            Key=f"uploads/{file_id}.json",
            Body=record.model_dump_json().encode(),
            ContentType="application/json",
        )
        return record

    def get(self, file_id: str) -> UploadedFile | None:
        from botocore.exceptions import ClientError

        try:
            body = self._s3.get_object(Bucket=self.bucket, Key=f"uploads/{file_id}.json")["Body"]
        except ClientError:
            return None
        return UploadedFile.model_validate(json.loads(body.read()))


def resolve_files(inputs: dict[str, Any], uploads: UploadStore | None, user: str) -> dict[str, Any]:
    """Replace ``{"transfer_method": "local_file", "upload_file_id": ...}`` (and
    ``remote_url``) input values with Dify file values."""

    def one(value: Any) -> Any:
        if not isinstance(value, dict) or "transfer_method" not in value:
            return value
        method = value.get("transfer_method")
        if method == "remote_url":
            url = str(value.get("url", ""))
            name = url.rsplit("/", 1)[-1] or "file"
            extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
            return _file_value(str(uuid.uuid4()), name, extension, None, None, value, url)
        if method != "local_file" or uploads is None:
            raise ApiError(400, "invalid_param", f"unsupported transfer_method {method!r}")
        found = uploads.get(str(value.get("upload_file_id", "")))
        if found is None or found.created_by != user:
            raise ApiError(
                400, "invalid_param", "upload_file_id does not name an upload of this user"
            )
        url = f"s3://{uploads.bucket}/{found.key}"
        return _file_value(
            found.id, found.name, found.extension, found.mime_type, found.size, value, url
        )

    return {
        k: [one(v) for v in value] if isinstance(value, list) else one(value)
        for k, value in inputs.items()
    }


def _file_value(
    file_id: str,
    name: str,
    extension: str,
    mime: str | None,
    size: int | None,
    given: dict[str, Any],
    url: str,
) -> dict[str, Any]:
    return {
        "dify_model_identity": "__dify__file__",
        "id": file_id,
        "type": given.get("type") or file_type(extension) or "custom",
        "transfer_method": given.get("transfer_method"),
        "related_id": file_id,
        "filename": name,
        "extension": f".{extension}" if extension else "",
        "mime_type": mime,
        "size": size,
        "url": url,
    }
