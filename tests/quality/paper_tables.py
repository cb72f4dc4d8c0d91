"""Every LLM-as-Judge row of the Benchmark Agent paper's Tables 1-4 (UIA FSQ QAC CQC TSD SSC
Overall), transcribed from ../shared/seeds/benchmark-agent-paper.txt."""

from __future__ import annotations

_ROWS = """
T1 Multi-Perspective (T)         76.77  87.93 96.70 75.31 63.36 39.78 72.55
T1 Multilingual (A)              81.48  95.21 95.83 89.35 69.44 41.05 78.50
T1 Omni-Understanding (O)        68.54  99.66 94.14 79.71 49.71 30.43 67.98
T1 Art-Reasoning (I)             74.06  99.70 91.98 65.49 66.04 51.12 72.19
T1 Math-Reasoning (I)            79.69  94.72 95.44 87.58 68.08 45.13 77.79
T2 Multi-Perspective Qwen3.5     20.71  94.40 88.33 73.10 25.95 21.19 45.76
T2 Multi-Perspective GPT-5.4     33.93  94.70 88.75 80.89 40.36 24.11 54.31
T2 Multi-Perspective Claude      42.66  95.75 94.84 95.62 35.00 25.47 59.78
T2 Multi-Perspective Gemini      37.34  83.26 84.28 83.96 35.53 24.37 53.63
T2 Art-Reasoning-2 Qwen3.5       17.08  98.83 91.46 74.38 30.00 16.25 45.75
T2 Art-Reasoning-2 GPT-5.4       18.21  97.14 92.50 70.00 14.64 11.79 41.86
T2 Art-Reasoning-2 Claude        43.05  97.78 90.67 49.21 32.74 20.63 49.49
T2 Art-Reasoning-2 Gemini        24.21  94.29 87.10 72.02 29.76 16.47 46.55
T3 Multi-Perspective Qwen3.5     69.92  96.87 88.28 81.25 67.58 39.84 72.24
T3 Multi-Perspective GPT-5.4     69.74  98.54 94.55 91.82 69.09 39.55 75.34
T3 Multi-Perspective Claude      73.41  96.59 95.48 86.97 71.01 44.68 76.43
T3 Multi-Perspective Gemini      77.89 100.00 96.15 93.27 72.12 47.12 79.88
T3 Omni-Understanding Qwen3.5    61.21  99.20 83.00 73.00 48.00 29.00 62.69
T3 Omni-Understanding GPT-5.4    63.16  98.15 95.00 76.67 48.33 31.67 65.64
T3 Omni-Understanding Claude     66.78  99.74 91.45 76.64 51.32 32.24 67.08
T3 Omni-Understanding Gemini     70.53  99.54 89.53 69.19 55.81 29.65 67.00
T3 Art-Reasoning-2 Qwen3.5       75.00  99.58 90.43 61.70 72.34 60.11 73.82
T3 Art-Reasoning-2 GPT-5.4       69.91  99.63 90.28 63.43 68.98 53.70 71.20
T3 Art-Reasoning-2 Claude        75.00 100.00 86.25 62.50 72.50 55.00 72.94
T3 Art-Reasoning-2 Gemini        76.31  99.65 90.79 62.72 71.49 57.46 73.98
T4 Multi-Perspective full        76.77  87.93 96.70 75.31 63.36 39.78 72.55
T4 Multi-Perspective -Design     75.00  86.66 96.38 78.80 63.22 38.22 72.34
T4 Multi-Perspective -TC         59.45  85.86 88.26 79.27 53.20 35.21 64.59
T4 Multi-Perspective -SLP        74.61  92.18 95.05 78.52 58.07 33.98 71.01
T4 Multi-Perspective -Verif      74.01  84.84 93.91 70.39 64.64 40.30 70.49
T4 Omni-Understanding full       68.54  99.66 94.14 79.71 49.71 30.43 67.98
T4 Omni-Understanding -Design    61.47  95.67 94.44 73.25 42.84 26.02 62.48
T4 Omni-Understanding -TC        44.30  78.42 81.80 33.11 38.82 24.56 45.69
T4 Omni-Understanding -SLP       67.44  99.86 91.91 80.40 46.40 27.14 66.54
T4 Omni-Understanding -Verif     67.33  97.66 92.83 79.50 46.33 28.17 66.36
T4 Art-Reasoning-2 full          74.06  99.70 91.98 65.49 66.04 51.12 72.19
T4 Art-Reasoning-2 -Design       74.25  98.95 90.49 63.25 57.65 42.54 68.97
T4 Art-Reasoning-2 -TC           74.06  99.16 89.74 64.74 63.68 48.42 70.98
T4 Art-Reasoning-2 -SLP          66.54 100.00 94.32 64.77 43.81 36.49 64.19
T4 Art-Reasoning-2 -Verif        74.41  99.15 89.55 64.96 64.75 47.75 71.21
"""


def rows() -> list[tuple[str, list[float], float]]:
    """(label, [UIA, FSQ, QAC, CQC, TSD, SSC], Overall) for every row."""
    out = []
    for line in _ROWS.strip().splitlines():
        parts = line.split()
        numbers = [float(x) for x in parts[-7:]]
        out.append((" ".join(parts[:-7]), numbers[:6], numbers[6]))
    return out
