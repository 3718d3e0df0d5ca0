"""Rendering: from detections to redacted pixels.

:mod:`~redact.render.regions` turns detections into the regions a file's manifest lists
(padding, whole heads, shapes), :mod:`~redact.render.styles` holds the styles that redact them
(fill, blur, pixelate; outline for review only) and :mod:`~redact.render.picture` applies a
style to a video picture in I420.
"""

from redact.render.styles import STYLES, Style, get_style

__all__ = ["STYLES", "Style", "get_style"]
