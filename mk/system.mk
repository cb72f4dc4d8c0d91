# System packages (Debian) the tools need: espeak-ng for text-to-speech, bubblewrap
# (bwrap) for the sandbox that runs synthesized generators (tools/sandbox).
# Idempotent: installs only what is missing. Needs root (or sudo) when it installs.

.PHONY: system-packages

system-packages:
	command -v espeak-ng >/dev/null || (apt-get update && apt-get install -y espeak-ng)
	command -v bwrap >/dev/null || (apt-get update && apt-get install -y bubblewrap)
