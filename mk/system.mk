# System packages (Debian) the tools need: espeak-ng for text-to-speech.
# Idempotent: installs only what is missing. Needs root (or sudo) when it installs.

.PHONY: system-packages

system-packages:
	command -v espeak-ng >/dev/null || (apt-get update && apt-get install -y espeak-ng)
