"""The settings of BA-Text (BenchAgents appendix A.2): users, their roles and task, and the
vocabulary its constraints are drawn from.

Users, roles and tasks are the paper's agent configuration; the judge-only constraints are
its P-Agent plan (Example 5) and Table 11, a few more in the same spirit. Topics replace the
paper's LLM-generated ones so that an instance depends on the seed alone. Section titles,
terms, list labels and conditional triples are what the programmatic constraints name;
`FORBIDDEN_WORDS` are words a negative constraint may ban, chosen to appear nowhere else
here, so a response can always avoid them (the tests check it).
"""

from __future__ import annotations

import msgspec

GROUPS = ("positive", "negative", "positional", "sequencing", "conditional", "iterative")


class Setting(msgspec.Struct, frozen=True, kw_only=True):
    user: str
    roles: list[str]
    task: str
    topics: dict[str, list[str]]  # by role
    sections: list[str]  # in their natural order
    terms: list[str]  # what "mention X" constraints name
    conditionals: list[tuple[str, str, str]]  # (optional section, term in it, else term)
    list_section: str  # the section whose items an iterative constraint labels
    item_label: str
    judge: dict[str, list[str]]  # by group: constraints only a judge can check


SETTINGS: dict[str, Setting] = {s.user: s for s in (
    Setting(
        user="chef", roles=["amateur", "professional"], task="recipe",
        topics={
            "amateur": ["a weeknight vegetable curry", "a lemon tart", "a summer gazpacho",
                        "a spiced lentil soup"],
            "professional": ["a mushroom risotto", "a sourdough loaf", "a braised short rib",
                             "a seafood paella"],
        },
        sections=["Introduction", "Ingredients", "Equipment", "Preparation", "Cooking Steps",
                  "Serving Suggestions", "Storage", "Variations"],
        terms=["seasoning", "texture", "fresh herbs", "resting time", "garnish"],
        conditionals=[("Storage", "airtight container", "serve immediately"),
                      ("Variations", "substitute", "traditional version")],
        list_section="Cooking Steps", item_label="Time:",
        judge={
            "positive": ["Include at least one type of fresh herb.",
                         "Suggest a drink that pairs with the dish."],
            "negative": ["Do not include any nuts.", "Do not use any deep-fried ingredients."],
            "positional": ["Add salt and pepper only after all other ingredients have been "
                           "mixed."],
            "sequencing": ["Start with washing and chopping vegetables, then proceed to "
                           "cooking."],
            "conditional": ["If the recipe includes meat, ensure it is marinated for at least "
                            "30 minutes; otherwise, include a protein source such as beans or "
                            "tofu."],
            "iterative": ["For each step, specify the cooking time and temperature."],
        },
    ),
    Setting(
        user="teacher", roles=["primary school", "high school"], task="lesson plan",
        topics={
            "primary school": ["the water cycle", "fractions", "how plants grow",
                               "telling the time"],
            "high school": ["photosynthesis", "the French Revolution", "persuasive writing",
                            "simple machines"],
        },
        sections=["Learning Objectives", "Materials", "Warm-up", "Main Activity", "Group Work",
                  "Assessment", "Homework", "Review"],
        terms=["learning objective", "feedback", "engagement", "differentiation",
               "prior knowledge"],
        conditionals=[("Homework", "due date", "no homework"),
                      ("Group Work", "group roles", "individual work")],
        list_section="Main Activity", item_label="Duration:",
        judge={
            "positive": ["Include a hands-on activity."],
            "negative": ["Do not use any digital tools.", "Do not assign reading from a "
                         "textbook."],
            "positional": ["Introduce the main topic within the first 10 minutes of the "
                           "lesson."],
            "sequencing": ["Begin with a warm-up exercise, followed by the main lesson, and end "
                           "with a review."],
            "conditional": ["If the lesson is for primary school, include a story; otherwise, "
                            "include a case study."],
            "iterative": ["For each activity of the lesson, provide an estimated duration."],
        },
    ),
    Setting(
        user="student", roles=["high school", "university"], task="essay",
        topics={
            "high school": ["school uniforms", "public libraries", "homework limits",
                            "team sports"],
            "university": ["renewable energy policy", "social media and democracy",
                           "urban green spaces", "the ethics of gene editing"],
        },
        sections=["Introduction", "Background", "Argument", "Counterargument", "Evidence",
                  "Analysis", "Conclusion", "References"],
        terms=["thesis", "perspective", "trade-off", "implication", "case study"],
        conditionals=[("Counterargument", "rebuttal", "single perspective"),
                      ("Background", "historical context", "current debate")],
        list_section="Evidence", item_label="Source:",
        judge={
            "positive": ["Include at least three references to academic sources."],
            "negative": ["Do not rely on personal anecdotes as evidence."],
            "positional": ["State the thesis statement in the first paragraph."],
            "sequencing": ["Start with an introduction, follow with body paragraphs, and end "
                           "with a conclusion."],
            "conditional": ["If the essay is argumentative, include a counterargument; "
                            "otherwise, include detailed descriptions."],
            "iterative": ["For each body paragraph, include a topic sentence and supporting "
                          "evidence."],
        },
    ),
    Setting(
        user="researcher", roles=["machine learning", "biology"], task="scientific article",
        topics={
            "machine learning": ["underfitting in neural networks",
                                 "data augmentation for small datasets",
                                 "evaluation of language models", "active learning"],
            "biology": ["antibiotic resistance", "coral reef bleaching",
                        "circadian rhythms in plants", "gut microbiome diversity"],
        },
        sections=["Abstract", "Introduction", "Related Work", "Methods", "Results",
                  "Discussion", "Limitations", "Conclusion"],
        terms=["hypothesis", "baseline", "sample size", "reproducibility", "effect size"],
        conditionals=[("Limitations", "future work", "scope of the study"),
                      ("Related Work", "prior studies", "novel contribution")],
        list_section="Results", item_label="Finding:",
        judge={
            "positive": ["Include a clear statement of the research question."],
            "negative": ["Do not mention any proprietary software or datasets by name."],
            "positional": ["State the main finding in the abstract."],
            "sequencing": ["Describe the methods before presenting any results."],
            "conditional": ["If the article reports an experiment, describe its controls; "
                            "otherwise, explain why no experiment was needed."],
            "iterative": ["For each result, explain how it relates to the research question."],
        },
    ),
    Setting(
        user="engineer", roles=["mechanical", "structural"], task="technical report",
        topics={
            "mechanical": ["gearbox wear in wind turbines", "thermal management of battery "
                           "packs", "vibration in pump systems", "conveyor belt maintenance"],
            "structural": ["fatigue in steel footbridges", "retrofitting masonry for "
                           "earthquakes", "timber high-rise design", "corrosion in parking "
                           "garages"],
        },
        sections=["Executive Summary", "Introduction", "Scope", "Methodology", "Findings",
                  "Risk Assessment", "Recommendations", "Conclusion"],
        terms=["safety factor", "load case", "inspection interval", "tolerance",
               "failure mode"],
        conditionals=[("Risk Assessment", "mitigation", "residual risk"),
                      ("Scope", "out of scope", "full system")],
        list_section="Recommendations", item_label="Priority:",
        judge={
            "positive": ["Include at least one cost estimate."],
            "negative": ["Do not recommend any specific commercial product."],
            "positional": ["Summarise the most important recommendation in the first "
                           "paragraph."],
            "sequencing": ["Describe the current condition before proposing changes."],
            "conditional": ["If the report identifies a critical risk, propose an immediate "
                            "action; otherwise, propose a monitoring plan."],
            "iterative": ["For each finding, state its likely cause."],
        },
    ),
)}

USERS = list(SETTINGS)
ROLES = sorted({role for s in SETTINGS.values() for role in s.roles})
TASKS = [s.task for s in SETTINGS.values()]

FORBIDDEN_WORDS = ["very", "really", "basically", "obviously", "amazing", "literally",
                   "incredibly", "awesome", "stuff", "nice", "huge", "totally"]

# Neutral, third-person sentences a reference response is padded with ({task}, {topic},
# {section} filled in). None uses a forbidden word or a first-person pronoun.
FILLER = [
    "This part of the {task} covers {section} for {topic}.",
    "The main facts about {topic} are set out step by step.",
    "Each point connects back to {topic} and to the purpose of the {task}.",
    "A clear structure helps the audience follow the reasoning.",
    "The details are chosen to support the overall aim of the {task}.",
    "Practical notes make the material on {topic} easier to apply.",
    "Key terms are defined where they first appear.",
    "The discussion stays focused on {topic} throughout this section.",
    "Short examples show how the ideas work in practice.",
    "The section closes by linking {section} to the next part.",
]
