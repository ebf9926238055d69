"""Small helpers the roster and eligibility pages share."""

from __future__ import annotations

import contextlib
import csv
import io
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar

from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django_htmx.http import HttpResponseClientRedirect

from openipa.accounts.models import User
from openipa.core.errors import PermissionDenied, ValidationFailed


def actor_of(request: HttpRequest) -> User:
    """The signed-in user (LoginRequiredMiddleware keeps anonymous requests out)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("not signed in")
    return user


def is_htmx_partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not getattr(htmx, "history_restore_request", False)


class UploadForm(Protocol):
    """What :func:`upload_page` needs of an upload form (the roster, remittance and claims forms)."""

    cleaned_data: dict[str, Any]

    def is_valid(self) -> bool: ...

    def add_error(self, field: str | None, error: Any) -> None: ...

    @property
    def filename(self) -> str: ...

    def put_errors(self, exc: ValidationFailed) -> None: ...


Record = TypeVar("Record")


def upload_page(
    request: HttpRequest,
    form: UploadForm,
    run_import: Callable[[dict[str, Any]], Record],
    *,
    outcome: Callable[[HttpRequest, Record], None],
    detail: Callable[[Record], str],
    fragment: str,
    page: str,
    refused_whole: Callable[[ValidationFailed], bool] = lambda exc: True,
) -> HttpResponseBase:
    """An upload page whose import runs in the request: on success the outcome message and a redirect to the
    record (``detail`` gives its URL; htmx gets a client redirect). A file refused outright (ValidationFailed;
    ``refused_whole`` says whether to say so above the form) or that could not be stored stays on the form,
    with nothing changed. htmx swaps only successful responses, so the form with its errors comes back to it
    as a 200 fragment; the whole page answers a failed POST with 400."""
    if request.method == "POST" and form.is_valid():
        try:
            record = run_import(form.cleaned_data)
        except ValidationFailed as exc:
            if refused_whole(exc):
                form.add_error(None, f"{form.filename} was not imported; nothing changed.")
            form.put_errors(exc)
        except OSError as exc:
            form.add_error(
                "file", f"{form.filename} could not be stored ({exc.strerror or exc}); nothing changed."
            )
        else:
            outcome(request, record)
            url = detail(record)
            return HttpResponseClientRedirect(url) if is_htmx_partial(request) else redirect(url)
    context = {"form": form}
    if is_htmx_partial(request):
        return render(request, fragment, context)
    return render(request, page, context, status=400 if request.method == "POST" else 200)


def record_url(name: str) -> Callable[[Any], str]:
    """The URL of the page ``name`` for a record (by its primary key), for :func:`upload_page`."""
    return lambda record: reverse(name, args=[record.pk])


def page_or_results(
    request: HttpRequest, template: str, partial: str, context: dict[str, object], status: int = 200
) -> HttpResponse:
    """The whole page, or only its results when htmx asks (filters as you type)."""
    response = render(request, partial if is_htmx_partial(request) else template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def csv_download(filename: str, header: Iterable[str], rows: Iterable[Iterable[object]]) -> HttpResponse:
    """A small CSV file (built in memory: a panel list, not a member export)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@contextlib.contextmanager
def on_disk(upload: UploadedFile, default_name: str) -> Iterator[tuple[Path, str]]:
    """``with on_disk(upload, "roster") as (path, name)``: an uploaded file on disk for an import that reads
    files, and its name as sent. Django's own temporary file for a large upload, else a copy in a temporary
    directory, removed afterwards (the imports keep their own copy)."""
    name = Path(upload.name or default_name).name or default_name
    temporary = getattr(upload, "temporary_file_path", None)
    if callable(temporary):
        yield Path(temporary()), name
        return
    with tempfile.TemporaryDirectory(prefix=f"openipa-{default_name}-") as tmp:
        path = Path(tmp) / (re.sub(r"[^A-Za-z0-9._-]+", "_", name)[-120:] or default_name)
        with path.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        yield path, name


def received_file(path: Path, file_name: str) -> FileResponse:
    """A kept import file as received, for download (never cached)."""
    response = FileResponse(path.open("rb"), as_attachment=True, filename=file_name)
    response["Cache-Control"] = "no-store"
    return response


def ack_download(request: HttpRequest, ack: str, file_name: str, default_stem: str) -> HttpResponse:
    """An import's 999 acknowledgment as the file to send back to the payer (404 when there is none); the
    name is the received file's, made safe for the header."""
    if not ack:
        return render(request, "404.html", {}, status=404)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(file_name).stem)[-100:] or default_stem
    response = HttpResponse(ack, content_type="text/plain; charset=latin-1")
    response["Content-Disposition"] = f'attachment; filename="{stem}-999.x12"'
    return response
