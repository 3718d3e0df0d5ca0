"""Video: one file's job (:mod:`~redact.video.job`) and what it is built from.

The job decodes, looks at each frame as the schedule says (:mod:`~redact.video.schedule`,
with the change maps and cut detector of :mod:`~redact.video.change`), tracks
(:mod:`~redact.video.track`), renders and encodes; :mod:`~redact.video.segments` splits a long
video into parts redacted apart and joined.
"""
