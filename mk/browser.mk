# A real browser for the tests that open a page (issue 12: the report, the review sheet).
# Debian's chromium, driven from Python by playwright with executable_path=/usr/bin/chromium
# (never `playwright install`: it downloads its own build, which this setup must not need).
# Idempotent: installs only what is missing. Needs root (or sudo) when it installs.

CHROMIUM ?= /usr/bin/chromium

.PHONY: browser

browser:
	test -x $(CHROMIUM) || (apt-get update && apt-get install -y --no-install-recommends chromium)

test: browser
