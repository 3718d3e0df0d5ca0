"""The interactive review page and the reviewer's sign-off record.

:func:`redact.review.page.build_page` writes one self-contained HTML file (inline script,
style and JPEG pictures; no network) in which a reviewer drops false detections, draws
missed regions, approves files and exports ``overrides.json`` (``redact-overrides/1``)
plus a sign-off record (``redact-signoff/1``, checked by :mod:`redact.review.signoff`).
"""
