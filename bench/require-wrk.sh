#!/bin/sh
# make bench / make bench-quick: wrk drives the load (the bundled python generator saturates
# near the rates mcpreg serves, so it would measure itself). Install it when missing and
# possible (root with apt-get), else say what to do and fail.
command -v wrk >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "wrk is not installed: installing it with apt-get" >&2
    apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null
    command -v wrk >/dev/null 2>&1 && exit 0
fi
echo "make bench needs wrk and could not install it: run 'sudo apt-get install -y wrk'" \
     "(or 'brew install wrk'), or for development only:" \
     ".venv/bin/python -m bench --load-generator python" >&2
exit 1
