"""The read fast path: the response cache and front door, memo, coalescer, gzip encoding and warming."""
