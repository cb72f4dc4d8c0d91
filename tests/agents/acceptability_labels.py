"""Hand labels: would a careful reader accept each everyday Causal-Reasoning item?

The 50 items of General-Bench's Causal-Reasoning (datasets/nlp/Causal-Reasoning) that pass
the everyday-register check (question and options, `agents.register.off_register`): the
population the demo's Verifier chooses from. Each was read whole — premise, both options,
label — as the paper's human evaluator reads: correct, clear, answerable, on the everyday
cause-and-effect capability. False says why. Used by perf/blind_solve_precision.py.
"""

from __future__ import annotations

ACCEPTABLE: list[tuple[str, bool, str]] = [
    ('cr018', True, ''),  # As he walked, he felt much heavier than before.
    ('cr156', False, 'label wrong: killing a boy does not please'),  # This monster was pleased.
    ('cr006', True, ''),  # Grande opened the drawers.
    ('cr446', True, ''),  # He expressed himself through dance.
    ('cr076', True, ''),  # All relatives entered the family room.
    ('cr218', True, ''),  # The birds located this zone as habitat.
    ('cr246', True, ''),  # It is a freshwater lake.
    ('cr244', True, ''),  # Tom felt so nervous in the running competition.
    ('cr073', False, 'garbled option: "He eats some singulars"'),  # Tom feels that his asthma…
    ('cr326', False, 'garbled premise'),  # I should concentrate on the writing of a time a place…
    ('cr064', False, 'both options could follow'),  # The workers are in charge of cleaning…
    ('cr337', True, ''),  # There is several little insects on the tree.
    ('cr470', True, ''),  # Jim faces the stress of finding a job.
    ('cr095', True, ''),  # The victims were taken to the police office to identify the…
    ('cr201', True, ''),  # My baby was baptized.
    ('cr054', True, ''),  # Human might get infected owing to sick mosquitoes.
    ('cr127', True, ''),  # He invited his partners to his residence.
    ('cr406', True, ''),  # Linda's father is a builder.
    ('cr062', False, 'neither option is an effect; one is garbled'),  # The children will be…
    ('cr478', True, ''),  # Jack's mother learns that Jack has an appointment.
    ('cr115', True, ''),  # Jane wanted to buy a book full of maps bound together.
    ('cr288', True, ''),  # She became a background singer in the chorus.
    ('cr074', False, 'a fragment ("But…"); the example is no cause'),  # But the students…
    ('cr105', False, 'both options follow'),  # Gongress passed some proposals.
    ('cr418', True, ''),  # John is an experienced thief.
    ('cr346', False, 'both options could be the cause'),  # Tom bought a lot of mangoes…
    ('cr063', True, ''),  # He went to school.
    ('cr032', True, ''),  # His action led to the movement of the wheels.
    ('cr149', False, 'both options follow'),  # Lucy gave me a pen.
    ('cr029', True, ''),  # Simon's mother often let Simon eat soys.
    ('cr426', False, 'options differ only in tense'),  # The child eats cereals every day.
    ('cr236', False, 'neither option is an effect'),  # Tom listened to the advice from his…
    ('cr207', False, 'label arbitrary: courthouse or bar'),  # She can have a rest after the…
    ('cr440', True, ''),  # He bought an avocado.
    ('cr151', False, 'a slur as an option'),  # Tom is American.
    ('cr298', True, ''),  # Usually girls showed better attitude than boys in learning E…
    ('cr125', True, ''),  # The light was off at 10 pm.
    ('cr403', True, ''),  # His serious condition needed immediate medical treatment.
    ('cr014', False, 'neither option is an effect'),  # Tom wants to know more about production.
    ('cr356', True, ''),  # The sales team will provide different services according to…
    ('cr227', True, ''),  # Tom's father is a chef.
    ('cr050', False, 'the label is a cause, not an effect'),  # The villagers were happy about…
    ('cr237', True, ''),  # His father was getting weak and suffering from lung cancer.
    ('cr350', False, 'garbled premise'),  # I saw him swallowing movement.
    ('cr072', True, ''),  # Tom was a shepherd.
    ('cr297', False, 'no event; neither option a cause'),  # Everyone can be susceptible to…
    ('cr348', True, ''),  # He bought a pair of shoes made of rubber.
    ('cr306', False, 'neither option a cause'),  # He brought a lawsuit against the company.
    ('cr155', True, ''),  # Tom wants to have a bath.
    ('cr472', False, 'a definition, not an event'),  # A stove is an enclosed space in which…
]
