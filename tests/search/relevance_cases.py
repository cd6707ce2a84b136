"""Queries over the seed articles, each with the passages that answer it.

A case is (query, [(file prefix, phrase), ...]): a hit answers the query when it comes from a file whose
name starts with the prefix and its passage contains the phrase. Queries are typed the way people ask in
Slack: keywords, questions, French, accents left out, other word forms, names and amounts.
"""

CASES: list[tuple[str, list[tuple[str, str]]]] = [
    ("valuation", [("002", "multibillion-dollar valuation"), ("000", "valued at around $2 billion")]),
    ("who founded Mistral?", [("002", "Founded by former researchers"), ("000", "three French founders")]),
    ("what is Mistral valued at", [("000", "valued at around $2 billion"), ("002", "valuation")]),
    ("$2 billion", [("000", "valued at around $2 billion")]),
    (
        "how much did Microsoft invest in Mistral?",
        [
            ("001", "15 million euros"),
            ("002", "modest investment"),
            ("000", "small investment"),
            ("003", "minority stake"),
        ],
    ),
    ("Le Chat chatbot", [("002", "named Le Chat"), ("003", "Le Chat")]),
    ("Mistral-Large", [("003", "Dubbed Mistral-Large")]),
    (
        "mistral large competitor to GPT-4",
        [("002", "touted as a competitor"), ("003", "Dubbed Mistral-Large")],
    ),
    ("AI Act regulation", [("001", "AI Act regulation"), ("002", "Artificial Intelligence Act")]),
    ("Aleph Alpha", [("000", "Aleph Alpha"), ("004", "Aleph Alpha")]),
    ("Timothée Lacroix", [("002", "Timothee Lacroix")]),
    ("Mistral Large Timothee", [("002", "Timothee Lacroix"), ("003", "Mistral-Large")]),
    ("Arthur Mensch", [("002", "CEO Arthur Mensch"), ("000", "Arthur Mensch")]),
    ("105 million", [("000", "105 million euros")]),
    ("Etats-Unis", [("004", "États-Unis")]),
    ("partenariat avec Microsoft", [("004", "partenariat")]),
    ("souverainete europeenne", [("004", "souveraineté européenne")]),
    ("Emmanuel Macron", [("000", "Emmanuel Macron"), ("004", "Emmanuel Macron")]),
    ("open source models", [("002", "open-source"), ("003", "open-source"), ("001", "open source")]),
    ("Marina Ferrari", [("001", "Marina Ferrari")]),
    ("is the distribution deal exclusive?", [("001", "not exclusive"), ("001", "exclusive distribution")]),
    ("why was the chatbot unavailable", [("002", "temporarily unavailable")]),
    ("Satya Nadella", [("004", "Satya Nadella")]),
    ("which languages does the model speak", [("000", "five languages")]),
    ("minority stakes", [("003", "minority stake")]),
    ("multibillion dollar", [("002", "multibillion-dollar valuation")]),
    ("$13 billion OpenAI", [("000", "$13 billion")]),
    ("when was Mistral created", [("000", "Created in April 2023"), ("004", "Créée en avril 2023")]),
    ("Brad Smith", [("003", "Brad Smith")]),
    ("levée de fonds", [("004", "levée de fonds")]),
    ("Mistral’s rise", [("003", "meteoric rise")]),
    ("Microsoft’s stake", [("001", "stake in Mistral is very small"), ("003", "minority stake")]),
    ("modèle de langage", [("004", "modèle de langage")]),
    ("dependance culturelle", [("004", "dépendance culturelle"), ("000", "cultural dependence")]),
    ("investments in the United States", [("000", "invested in the United States"), ("004", "États-Unis")]),
    ("antitrust regulators", [("002", "antitrust regulators")]),
    ("AI Security summit Paris", [("000", "Summit on AI Security")]),
]
