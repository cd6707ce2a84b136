"""The judged set: questions as people type them in Slack, in English and French, each with its answer.

Written before any tuning of the expansion, the lexicon or the gate. An answer is a passage named by the
file its article comes from (a prefix of its source: `000` for a seed, `fr_serie_b` for a fixture of
tests/fixtures/answers/) and a phrase it contains, so renumbering passages does not break a judgement.
A question with no answers is one that nothing in the articles answers: the bot must say "nothing found".

The questions cover: French questions about English articles and the reverse, other words than the
article's, acronyms and titles written out or not, amounts in every form, names with and without accents,
typos, and questions that nothing answers. The set is split in two by alternation within each language:
`dev` (tune on it) and `test` (report only).
"""

from __future__ import annotations

from typing import NamedTuple

Answer = tuple[str, str]


class Question(NamedTuple):
    query: str
    answers: tuple[Answer, ...]
    language: str
    part: str = ""


# Passages that answer the same fact, named once.
CEO = (
    ("002", "CEO Arthur Mensch"),
    ("000", "Arthur Manns, CEO"),
    ("en_series_a", "CEO, Arthur Mensch"),
    ("en_not_for_sale", "chief executive Arthur Mensch"),
    ("fr_serie_b", "PDG Arthur Mensch"),
)
CTO = (
    ("002", "Chief Technology Officer Timothee Lacroix"),
    ("en_series_a", "Lacroix is the company"),
    ("fr_serie_b", "directeur technique, Timothée Lacroix"),
)
LACROIX = CTO
MENSCH = (
    *CEO,
    ("000", "co-founder Arthur Mensch"),
    ("000", "co-founders, Arthur Mensch"),
    ("004", "Arthur Mensch"),
    ("002", "CEO Arthur Mensch voiced"),
    ("en_not_for_sale", "Mensch said"),
)
VALUATION = (
    ("000", "valued at around $2 billion"),
    ("002", "multibillion-dollar valuation"),
    ("en_series_a", "valuing the seven-month-old company"),
    ("fr_serie_b", "valorise la jeune pousse"),
)
TWO_BILLION = (("000", "valued at around $2 billion"), ("en_series_a", "about $2bn"))
SEED_ROUND = (
    ("000", "105 million euros"),
    ("en_series_a", "€105m seed round"),
    ("004", "levée de fonds en juin 2023"),
)
SERIES_A = (("en_series_a", "€385m ($415m) in a Series A"),)
SERIES_B = (("fr_serie_b", "levée de fonds de 600 millions"),)
MICROSOFT_MONEY = (
    ("001", "15 million euros"),
    ("002", "modest investment"),
    ("000", "small investment"),
    ("003", "minority stake"),
    ("fr_serie_b", "15 millions d'euros"),
)
MICROSOFT_STAKE = (("003", "minority stake"), ("001", "stake in Mistral is very small"))
NOT_FOR_SALE = (("en_not_for_sale", "not for sale"), ("fr_serie_b", "pas à vendre"))
IPO = (
    ("en_not_for_sale", "initial public offering"),
    ("en_not_for_sale", "plan to go public"),
    ("fr_serie_b", "introduction en Bourse"),
)
CREATED = (
    ("000", "Created in April 2023"),
    ("004", "Créée en avril 2023"),
    ("002", "inception last spring"),
    ("003", "Founded less than a year ago"),
)
FOUNDERS = (
    ("002", "Founded by former researchers"),
    ("000", "three French founders"),
    ("en_series_a", "co-founded the company"),
    ("004", "Co-fondée par des professionnels"),
)
LE_CHAT = (
    ("002", "named Le Chat"),
    ("003", "Le Chat"),
    ("000", "a nod to American"),
    ("004", "existence du"),
)
AI_ACT = (
    ("001", "AI Act regulation"),
    ("002", "Artificial Intelligence Act"),
    ("en_series_a", "AI Act"),
    ("en_not_for_sale", "AI Act, which entered into force"),
    ("001", "position on the AI Act"),
)
LOBBYING = (
    ("002", "advocated against proposed restrictions"),
    ("en_series_a", "lobbied against strict rules"),
    ("en_not_for_sale", "lobbied Brussels"),
    ("001", "rallied strongly last fall"),
)
AZURE = (
    ("002", "Azure cloud computing platform"),
    ("000", "Azure AI, is available"),
    ("003", "integrating its models into the Azure"),
    ("003", "Azure cloud platform"),
    ("004", "aux clients de"),
    ("004", "disponible sur Azure"),
)
INVESTORS = (
    ("en_series_a", "Investors in the new round include Nvidia"),
    ("en_series_a", "led by Andreessen Horowitz"),
    ("fr_serie_b", "General Catalyst"),
    ("fr_serie_b", "Le tour de table"),
    ("003", "Silicon Valley venture capitalists"),
    ("en_series_a", "led by Lightspeed"),
)
NVIDIA = (("en_series_a", "include Nvidia"), ("fr_serie_b", "Nvidia, Samsung"))
GPT4 = (("002", "touted as a competitor"), ("003", "Dubbed Mistral-Large"), ("000", "outperforming GPT-4"))
HEADCOUNT = (("fr_serie_b", "soixantaine de salariés"), ("en_not_for_sale", "employs about 100 people"))
US_OFFICE = (("en_not_for_sale", "Palo Alto"), ("fr_serie_b", "ouvrir des bureaux aux États-Unis"))
PARTNERSHIP = (
    ("000", "unveiling its partnership with Microsoft"),
    ("000", "announcing a partnership"),
    ("000", "welcomed the partnership"),
    ("002", "announced a partnership"),
    ("002", "Financial details of the partnership"),
    ("002", "The partnership between Microsoft"),
    ("003", "sealed a partnership deal"),
    ("003", "strategic partnership with Mistral"),
    ("001", "great partnership with Microsoft"),
    ("004", "partenariat fructueux avec Microsoft"),
    ("004", "Partenariat annoncé avec Microsoft"),
    ("004", "collaboration majeure"),
    ("004", "ce partenariat est perçu"),
    ("004", "multi-year partnership"),
)
LLM = (
    ("003", "its own LLM"),
    ("003", "large language model, and a deal"),
    ("003", "large language models (LLMs)"),
    ("000", "Mistral Large Language model"),
    ("004", "modèle de langage"),
    ("001", "large language models are integrated"),
)
SOVEREIGNTY = (
    ("004", "souveraineté européenne"),
    ("001", "European sovereignty"),
    ("000", "European sovereignty is threatened"),
)
DEPENDENCE = (("004", "dépendance culturelle"), ("000", "cultural dependence"))
MASSIVE_US = (("004", "investissements massifs"), ("000", "enormous sums invested"))
OPEN_SOURCE_LARGE = (("002", "will not follow this pattern"),)
NONE: tuple[Answer, ...] = ()

ENGLISH: list[tuple[str, tuple[Answer, ...]]] = [
    ("who is the boss of Mistral?", CEO),
    ("who is Mistral's chief executive officer", CEO),
    ("Who is the CTO of Mistral?", CTO),
    ("mistral chief scientist", (("002", "Chief Scientist Guillaume Lample"),)),
    ("what's the price tag on Mistral", VALUATION),
    ("How much is Mistral worth?", VALUATION),
    ("how much did mistral raise in its seed round", SEED_ROUND),
    ("€105m", SEED_ROUND[:2]),
    ("105m euros seed", SEED_ROUND[:2]),
    ("$2bn valuation", TWO_BILLION),
    ("2 billion dollars", TWO_BILLION),
    ("how big was the Series A?", SERIES_A),
    ("who led the series A round", (("en_series_a", "led by Andreessen Horowitz"),)),
    ("a16z", (("en_series_a", "Andreessen Horowitz"), ("fr_serie_b", "Andreessen Horowitz"))),
    ("how much did Microsoft put into Mistral", MICROSOFT_MONEY),
    ("€15m Microsoft stake", (("001", "15 million euros"), ("fr_serie_b", "15 millions d'euros"))),
    ("Microsoft acquisition of a stake in Mistral", MICROSOFT_STAKE),
    ("did Microsoft acquire Mistral?", (*MICROSOFT_STAKE, ("fr_serie_b", "écarte tout rachat"))),
    ("is Mistral for sale?", NOT_FOR_SALE),
    ("will mistral go public", IPO),
    ("Mistral IPO plans", IPO),
    ("when was Mistral founded", CREATED),
    ("who are the founders of Mistral", FOUNDERS),
    ("where did the founders work before", FOUNDERS),
    ("what is Le Chat", LE_CHAT),
    ("why did the chatbot go down", (("002", "temporarily unavailable"),)),
    ("rules for AI in Europe", AI_ACT),
    ("did Mistral lobby against the EU AI rules?", LOBBYING),
    ("did Mensch say regulation would stifle innovation", (("002", "stifle innovation"),)),
    ("is the Microsoft distribution deal exclusive", (("001", "not exclusive"),)),
    ("which cloud will host Mistral Large", AZURE),
    ("Is Mistral Large open source?", OPEN_SOURCE_LARGE),
    ("Mixtral license", (("en_series_a", "Apache 2.0"),)),
    ("mixture of experts model", (("en_series_a", "mixture-of-experts"),)),
    ("Which languages does Mistral Large support", (("000", "five languages"),)),
    ("Who is Cedric O", (("en_series_a", "Cédric O"),)),
    ("former French digital minister adviser", (("en_series_a", "former digital minister"),)),
    ("which investors backed Mistral", INVESTORS),
    ("did Nvidia invest in Mistral", NVIDIA),
    ("Microsoft president quoted on the deal", (("003", "Brad Smith"),)),
    ("What did Satya Nadella tweet?", (("004", "multi-year partnership"),)),
    ("what did the French minister think of the Microsoft deal", (("001", "such a great partnership"),)),
    ("was the French government aware of the negotiations", (("001", "we were not aware"),)),
    ("how much did Aleph Alpha raise", (("000", "500 million euros"),)),
    ("how much money did OpenAI get", (("000", "$13 billion"),)),
    ("$13bn OpenAI", (("000", "$13 billion"),)),
    ("what is the competitor to GPT-4", GPT4),
    ("antitrust scrutiny of Microsoft and OpenAI", (("002", "antitrust regulators"),)),
    (
        "EU competition review of Microsoft's investment",
        (("fr_serie_b", "Commission européenne"), ("002", "antitrust regulators")),
    ),
    ("Codestral coding model", (("fr_serie_b", "Codestral"),)),
    ("how many programming languages does Codestral know", (("fr_serie_b", "80 langages"),)),
    ("How many people work at Mistral", HEADCOUNT),
    ("does Mistral have an office in the US", US_OFFICE),
    ("VP of sales", (("en_not_for_sale", "vice president of sales"),)),
    ("Timothée Lacroix", LACROIX),
    ("timothee lacroix cto", LACROIX),
    ("Arthur Mensh", MENSCH),
    ("Microsfot partnership", PARTNERSHIP),
    ("valuaton of mistral", VALUATION),
    ("Macron national champion", (("000", "Emmanuel Macron declared"), ("004", "Emmanuel Macron"))),
    ("Ursula von der Leyen", (("000", "Ursula von der Leyen"), ("004", "Ursula von der Leyen"))),
    ("economy minister Bruno Le Maire", (("000", "Bruno Le Maire"),)),
    ("Google AI research hub in Paris", (("000", "inaugurated by Google in Paris"),)),
    ("Capgemini partnership", (("001", "Capgemini"),)),
    ("alternative to GAFAM", (("001", "sovereign alternative"), ("001", "independent of Gafam"))),
    ("Microsoft relying less on OpenAI", (("002", "reduce its reliance on OpenAI"),)),
    ("apps for European governments", (("003", "European governments"),)),
    ("what did Mistral launch on February 26", (("003", "February 26th"), ("004", "February 26, 2024"))),
    ("how much debt in the June round", (("fr_serie_b", "132 millions"),)),
    ("€600m round", SERIES_B),
    ("5.8bn valuation", (("fr_serie_b", "5,8 milliards"),)),
    ("who led the 600 million euro round", (("fr_serie_b", "General Catalyst"),)),
    ("Bpifrance", (("fr_serie_b", "Bpifrance"),)),
    ("LLM released by Mistral", LLM),
    ("Mistral Large reasoning", (("003", "reasoning capabilities"),)),
    # Nothing in the articles answers these.
    ("What is Mistral's annual revenue?", NONE),
    ("what's Mistral's stock ticker", NONE),
    ("Who is Mistral's chief financial officer?", NONE),
    ("What's the weather in Paris tomorrow?", NONE),
    ("When did Mistral open its Tokyo office?", NONE),
    ("Did Apple buy Mistral?", NONE),
    ("What did Elon Musk say about Mistral?", NONE),
    ("How much does Le Chat Pro cost per month?", NONE),
    ("recipe for chocolate cake", NONE),
    ("Mistral carbon footprint", NONE),
    ("who won the football match yesterday", NONE),
]

FRENCH: list[tuple[str, tuple[Answer, ...]]] = [
    ("qui dirige Mistral ?", CEO),
    ("Qui est le PDG de Mistral AI ?", CEO),
    ("qui est le directeur général de mistral", CEO),
    ("qui est le directeur technique de Mistral", CTO),
    ("Qui sont les fondateurs de Mistral ?", FOUNDERS),
    ("quand Mistral a-t-elle été créée ?", CREATED[:2]),
    ("date de création de mistral", CREATED[:2]),
    ("combien vaut Mistral ?", VALUATION),
    ("quelle est la valorisation de Mistral", VALUATION),
    ("valorisation de 2 milliards de dollars", TWO_BILLION),
    ("2 Md$ valorisation", TWO_BILLION),
    ("combien Mistral a-t-elle levé en juin 2023 ?", SEED_ROUND),
    ("105 millions d'euros", SEED_ROUND[:2]),
    ("levée de fonds de 385 millions", SERIES_A),
    ("série A de Mistral", SERIES_A),
    ("combien Microsoft a-t-il investi dans Mistral ?", MICROSOFT_MONEY),
    ("15 M€ Microsoft", (("001", "15 million euros"), ("fr_serie_b", "15 millions d'euros"))),
    ("participation minoritaire de Microsoft", MICROSOFT_STAKE),
    ("Microsoft a-t-il racheté Mistral ?", (*MICROSOFT_STAKE, ("fr_serie_b", "écarte tout rachat"))),
    ("Mistral est-elle à vendre ?", NOT_FOR_SALE),
    ("introduction en bourse de Mistral", IPO),
    ("IPO Mistral", IPO),
    ("Mistral va-t-elle entrer en bourse", IPO),
    ("Qu'est-ce que Le Chat ?", LE_CHAT),
    ("pourquoi le chatbot était indisponible", (("002", "temporarily unavailable"),)),
    ("règlement européen sur l'IA", AI_ACT),
    ("Mistral a-t-elle fait du lobbying contre l'AI Act", LOBBYING),
    ("la réglementation va-t-elle freiner l'innovation", (("002", "stifle innovation"),)),
    ("l'accord de distribution est-il exclusif ?", (("001", "not exclusive"),)),
    ("sur quel cloud Mistral Large est disponible", AZURE),
    ("Mistral Large est-il open source ?", OPEN_SOURCE_LARGE),
    ("quelle licence pour Mixtral", (("en_series_a", "Apache 2.0"),)),
    ("modèle à mélange d'experts", (("en_series_a", "mixture-of-experts"),)),
    ("combien de langues parle le modèle", (("000", "five languages"),)),
    ("qui est Cédric O", (("en_series_a", "Cédric O"),)),
    ("ancien ministre du numérique conseiller de Mistral", (("en_series_a", "former digital minister"),)),
    ("quels investisseurs soutiennent Mistral", INVESTORS),
    ("Nvidia a-t-il investi dans Mistral", NVIDIA),
    ("président de Microsoft Brad Smith", (("003", "Brad Smith"),)),
    ("tweet de Satya Nadella", (("004", "multi-year partnership"),)),
    ("que pense la ministre Marina Ferrari de l'accord", (("001", "such a great partnership"),)),
    ("l'État était-il au courant des négociations ?", (("001", "we were not aware"),)),
    ("combien a levé Aleph Alpha", (("000", "500 million euros"),)),
    ("OpenAI a reçu 13 milliards", (("000", "$13 billion"),)),
    ("concurrent de GPT-4", GPT4),
    (
        "autorités de la concurrence Microsoft OpenAI",
        (("002", "antitrust regulators"), ("fr_serie_b", "problème de concurrence")),
    ),
    ("Codestral", (("fr_serie_b", "Codestral"),)),
    ("combien de salariés chez Mistral", HEADCOUNT),
    ("bureau aux États-Unis", US_OFFICE),
    ("vice-président des ventes", (("en_not_for_sale", "vice president of sales"),)),
    ("c'est qui Timothée Lacroix ?", LACROIX),
    ("timothee lacroix directeur technique", LACROIX),
    ("Artur Mensch", MENSCH),
    ("partenariat avec Micrsoft", PARTNERSHIP),
    ("Emmanuel Macron champion", (("000", "Emmanuel Macron declared"), ("004", "Emmanuel Macron"))),
    ("von der Leyen", (("000", "Ursula von der Leyen"), ("004", "Ursula von der Leyen"))),
    ("ministre de l'économie Bruno Le Maire", (("000", "Bruno Le Maire"),)),
    ("Google centre de recherche à Paris", (("000", "inaugurated by Google in Paris"),)),
    ("Capgemini intégrateurs", (("001", "Capgemini"),)),
    ("alternative aux Gafam", (("001", "sovereign alternative"), ("001", "independent of Gafam"))),
    ("Microsoft veut réduire sa dépendance à OpenAI", (("002", "reduce its reliance on OpenAI"),)),
    ("applications pour les gouvernements européens", (("003", "European governments"),)),
    ("qu'a lancé Mistral le 26 février", (("003", "February 26th"), ("004", "February 26, 2024"))),
    ("part de dette dans la levée de 600 millions", (("fr_serie_b", "132 millions"),)),
    ("600 M€", SERIES_B),
    ("valorisation de 5,8 milliards d'euros", (("fr_serie_b", "5,8 milliards"),)),
    ("qui a mené le tour de table de juin 2024", (("fr_serie_b", "General Catalyst"),)),
    ("Bpifrance investisseur", (("fr_serie_b", "Bpifrance"),)),
    ("grand modèle de langage de Mistral", LLM),
    ("capacités de raisonnement de Mistral Large", (("003", "reasoning capabilities"),)),
    ("souveraineté européenne", SOVEREIGNTY),
    ("dependance culturelle envers les Etats-Unis", DEPENDENCE),
    ("investissements massifs aux etats unis", MASSIVE_US),
    ("Mistral AI annoncee partenariat", PARTNERSHIP),
    ("start-up creee en avril", CREATED[:2]),
    # Nothing in the articles answers these.
    ("Quel est le chiffre d'affaires de Mistral ?", NONE),
    ("Combien coûte l'abonnement à Le Chat Pro ?", NONE),
    ("Qui est le directeur financier de Mistral ?", NONE),
    ("Quel temps fera-t-il demain à Lyon ?", NONE),
    ("Mistral a-t-elle un bureau à Tokyo ?", NONE),
    ("Apple a-t-il racheté Mistral ?", NONE),
    ("Que pense Elon Musk de Mistral ?", NONE),
    ("recette de la tarte tatin", NONE),
    ("empreinte carbone de Mistral", NONE),
    ("résultat du match de football hier soir", NONE),
]


def _split(language: str, questions: list[tuple[str, tuple[Answer, ...]]]) -> list[Question]:
    return [
        Question(query, answers, language, "dev" if i % 2 == 0 else "test")
        for i, (query, answers) in enumerate(questions)
    ]


QUESTIONS: list[Question] = _split("en", ENGLISH) + _split("fr", FRENCH)
DEV = [q for q in QUESTIONS if q.part == "dev"]
TEST = [q for q in QUESTIONS if q.part == "test"]
