# The libraries that load `benchagent export` folders: datasets, inspect-ai, lm-eval (the
# `exports` extra of pyproject.toml). The core install does not need them; the tests load
# every export format with them, so `make test` installs them.
EXPORTS_STAMP := $(VENV)/.installed-exports

.PHONY: exports

exports: $(EXPORTS_STAMP)

$(EXPORTS_STAMP): pyproject.toml mk/exports.mk | $(STAMP)
	$(BIN)/pip install -q -e '.[exports]'
	touch $@

test: exports
