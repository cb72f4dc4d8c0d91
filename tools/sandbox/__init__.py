"""Running untrusted Python (a generator module an LLM wrote) and checking it before use.

- `wire`: the request/response structs between host and sandbox, and the closed vocabulary
  of error kinds;
- `allowlist`: the modules generated code may import, and the static (AST) check;
- `jail`: the bubblewrap command line that isolates one sandboxed interpreter;
- `worker`: the program that runs *inside* the sandbox (stdlib only, never imported here);
- `session`: `Sandbox`, the host side of one live sandboxed module;
- `template`: the module skeleton a model fills in (sampling, the answer, the checks);
- `checks`: the host-side checker that runs a module over K seeds and reports each failure;
- `synthesized`: a checked module as a `Generator` like the built-in ones.
"""
