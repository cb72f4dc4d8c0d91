"""Hand labels: is each of 40 items of General-Bench's Causal-Reasoning an everyday event?

Every fifth item of datasets/nlp/Causal-Reasoning/annotation.json (index 0, 5, …, 195),
read whole (question and both options) and labelled True when a careful reader calls it an
everyday event — chores, family, food, health as people live it, work, shopping — and False
for laboratory, science, natural history, medicine in its own terms, or no event at all
("This phenomenon is called speciation"). Used by tests/agents/test_register.py and
perf/everyday_register.py.
"""

from __future__ import annotations

CAUSAL_REASONING = "7fb63e11"
EVERYDAY_LABELS: list[tuple[str, bool]] = [
    ('cr452', True),  # He said he saw a hellhound running on the street
    ('cr434', False),  # Fox and rabbit in this stroy are in the place of people
    ('cr235', False),  # The chemistry teacher used some polymers for experiments
    ('cr480', False),  # His mother gave him a ladybug
    ('cr141', True),  # His legs are entangled in duckweed
    ('cr327', False),  # John wants to have a scientific study of the complex wat
    ('cr347', False),  # He had to bear their great vocal sounds
    ('cr349', False),  # Artificial snow is impossible in summer of Hong Kong
    ('cr064', True),  # The workers are in charge of cleaning debris
    ('cr499', True),  # The naughty boy knew his sistar hate animals with big mo
    ('cr208', False),  # Lucy has reached her sexual maturity
    ('cr228', False),  # He was surprised at their ways similar to multicellular
    ('cr390', True),  # Lilia has a gift for singing
    ('cr310', False),  # They bought a chiller in a joint venture
    ('cr478', True),  # Jack's mother learns that Jack has an appointment
    ('cr369', False),  # He found bring bulges in the flat disk-like spiral
    ('cr328', False),  # He was considered as one of the greatest hero in the his
    ('cr398', False),  # We cannogt get clean water from those underground reserv
    ('cr360', False),  # He was shocked by his chemical deficiency
    ('cr346', True),  # Tom bought a lot of mangoes and coconuts
    ('cr170', False),  # The doctor said he was suffering from a skin disease
    ('cr463', False),  # Astronauts wear spacesuits with lithium hydroxide canist
    ('cr139', False),  # He opened his mouth
    ('cr266', False),  # This kind of young animal grow rapidly
    ('cr344', False),  # Tom's car is always drawn by dendrites
    ('cr028', False),  # Jack wanted to know why Quasars drown out the light from
    ('cr066', False),  # Enzymes are necessary for children's growth
    ('cr403', True),  # His serious condition needed immediate medical treatment
    ('cr046', False),  # This phenomenon is called speciation
    ('cr015', False),  # He observed tracks on the ground where the jaguar had mo
    ('cr219', False),  # He found a lot of taurine
    ('cr351', False),  # Biologist stand out to protect these significant creatur
    ('cr270', False),  # Atmosphere of the two regions are totally different
    ('cr490', True),  # Tom ate a lot of pots of brambles this year
    ('cr237', True),  # His father was getting weak and suffering from lung canc
    ('cr157', False),  # Hardwoods are deciduous
    ('cr070', False),  # The primates didn't want to be exhibit animals
    ('cr072', True),  # Tom was a shepherd
    ('cr348', True),  # He bought a pair of shoes made of rubber
    ('cr306', True),  # He brought a lawsuit against the company
]
