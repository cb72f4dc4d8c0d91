"""Synthesized generators (BenchAgents' P-Agent and G-Agent) as a grounding source.

When no pool plan grounds a subtask (or the run asks for it: `--synthesize`), Grounding:
- plans a generator (`plan`: parameters with kinds and ranges, constraints, checks, a
  complexity measure, a metric) → `GeneratorPlanned`;
- has the model write the template's parts (`tools.sandbox.template`) → `GeneratorDrafted`
  per attempt (`parts`: the code read from the answer, or why it is not usable Python);
- checks the composed module in the sandbox over K seeds (`tools.sandbox.checks`), then
  renders K items and has the model judge them for clarity, completeness and consistency
  (`item_checks`) → `GeneratorChecked` per stage; each failure goes back to the model with
  its reason, in bounded rounds (`flow`);
- records the generator that passed every check → `GeneratorSynthesized` (its source and
  sha256), served from that recorded source alone (`serving`) to realize, verify and score
  its items.
"""
