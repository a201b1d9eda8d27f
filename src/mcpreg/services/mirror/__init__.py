"""The subregistry: declared upstreams (``upstreams``), reading their pages (``pages``),
applying entries (``apply``), the sync with its checkpoints and runs (``sync``, ``runs``)."""
