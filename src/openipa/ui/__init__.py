"""What every app's pages share, below the apps: the refusal pages (`errors`), inline SVG charts (`charts`),
download responses (`responses`), form helpers (`forms`) and navigation links (`navigation`).

The apps import these; `openipa.web`, the shell that mounts every app's pages, sits on top of them all and
is imported by none of them (docs/adr/0026-ui-layer.md).
"""
