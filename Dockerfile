# The benchagent image used by every agent service of docker-compose.yml.
FROM python:3.11-slim

ARG LLAMA_CPP_VERSION=0.3.16
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

# ffmpeg: audio tools (pydub); build tools: llama-cpp-python for the embedded local model.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg build-essential cmake \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY benchagent ./benchagent
COPY store ./store
COPY bus ./bus
COPY agents ./agents
COPY tools ./tools
COPY replay ./replay
RUN pip install --no-cache-dir . \
    # Non-native llama.cpp build: the native one crashes in the AMX matmul path on some CPUs.
    && CMAKE_ARGS="-DGGML_NATIVE=OFF" FORCE_CMAKE=1 \
       pip install --no-cache-dir "llama-cpp-python==${LLAMA_CPP_VERSION}"

# Agents keep no state of their own: everything lives in the JetStream log.
RUN useradd --create-home benchagent && mkdir -p /cache && chown benchagent /cache
USER benchagent
ENTRYPOINT ["benchagent"]
CMD ["--help"]
