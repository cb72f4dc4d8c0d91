"""LLM backends: OpenAI-compatible, the embedded local model, and a scripted client for tests."""
