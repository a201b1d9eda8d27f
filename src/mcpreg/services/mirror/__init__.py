"""The subregistry: declared upstreams (``upstreams``), reading their pages (``pages``),
reading and checking one entry (``entries``), applying a page (``apply``), the sync with its
lease, checkpoints and background pass (``sync``), its runs (``runs``), and where mirrored
releases came from (``provenance``)."""
