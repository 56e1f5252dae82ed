"""File downloads: a CSV export or a printable PDF, as an attachment."""

from __future__ import annotations

from flask import Response

from diversion.services.exports import Export


def csv_download(export: Export) -> Response:
    """Send an export as a CSV attachment."""
    return Response(export.as_csv(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{export.filename}"'})


def pdf_download(body: bytes, filename: str) -> Response:
    """Send a printable PDF as an attachment."""
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})
